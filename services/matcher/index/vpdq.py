"""vPDQ video matching on top of the PDQ frame index, following Meta's reference rule.

Meta's vpdq README (facebook/ThreatExchange, vpdq/README.md, "Comparison (Matching)
Algorithm") defines the comparison of a query video Q with a banked video C as: drop
frames whose PDQ quality is below 50, de-duplicate identical frame hashes, count the query
frames within distance 31 of *some* frame of C and the frames of C within 31 of *some*
query frame, and compare both percentages with thresholds. Haven's design sets both
thresholds to 80 % (Meta's defaults are 80 % of C and 0 % of Q; Haven asks for the
symmetric rule so a short clip does not match a long video, nor the reverse).

Every banked frame goes into one :class:`PdqIndex`; a query searches each of its frames
once, so a video is only scored if it shares at least one near frame. Both directions
come out of the same search because Hamming distance is symmetric: a banked frame is
"matched" exactly when some query frame found it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from services.matcher.index.bits import Words, parse_pdq
from services.matcher.index.pdq import DEFAULT_RADIUS, PdqIndex

VPDQ_MIN_QUALITY = 50
VPDQ_MATCH_PERCENT = 80.0


@dataclass(frozen=True)
class VideoMatch:
    """A banked video that matched, with the two percentages of Meta's rule."""

    video: int
    query_match_percent: float
    target_match_percent: float
    min_distance: int


def prepare_frames(frames: Iterable[tuple[str, int]]) -> Words:
    """Quality-filtered, de-duplicated frame hashes of a video, as an ``(n, 4)`` array."""
    seen: set[str] = set()
    kept: list[Words] = []
    for pdq_hex, quality in frames:
        normalised = pdq_hex.lower()
        if quality >= VPDQ_MIN_QUALITY and normalised not in seen:
            seen.add(normalised)
            kept.append(parse_pdq(normalised))
    return np.stack(kept) if kept else np.empty((0, 4), dtype=np.uint64)


class VpdqIndex:
    """Banked videos addressed by integer id; frames live in a shared PDQ index."""

    def __init__(
        self,
        *,
        frame_radius: int = DEFAULT_RADIUS,
        match_percent: float = VPDQ_MATCH_PERCENT,
    ) -> None:
        self.frame_radius = frame_radius
        self.match_percent = match_percent
        self._frames = PdqIndex(radius=frame_radius, tables=16, tail_limit=1024)
        self._frame_video = np.empty(0, dtype=np.int64)
        self._video_rows: dict[int, np.ndarray] = {}
        self._next_video = 0

    def __len__(self) -> int:
        return len(self._video_rows)

    @property
    def frames(self) -> PdqIndex:
        """The shared frame index (for bulk-load control)."""
        return self._frames

    def add(self, frames: Iterable[tuple[str, int]]) -> int:
        """Bank a video given ``(pdq_hex, quality)`` frames; returns its id."""
        words = prepare_frames(frames)
        if len(words) == 0:
            raise ValueError(f"no frame has PDQ quality >= {VPDQ_MIN_QUALITY}; nothing to match")
        rows = self._frames.add_many(words)
        video = self._next_video
        self._next_video += 1
        grown = np.full(self._frames.rows_used, -1, dtype=np.int64)
        grown[: len(self._frame_video)] = self._frame_video
        grown[rows] = video
        self._frame_video = grown
        self._video_rows[video] = rows
        return video

    def remove(self, video: int) -> bool:
        """Withdraw a video; False if it is not banked."""
        rows = self._video_rows.pop(video, None)
        if rows is None:
            return False
        for row in rows.tolist():
            self._frames.remove(row)
        return True

    def match(self, frames: Iterable[tuple[str, int]]) -> list[VideoMatch]:
        """Banked videos matching the query video under the symmetric 80 % rule."""
        query = prepare_frames(frames)
        if len(query) == 0:
            return []
        query_hits: dict[int, set[int]] = defaultdict(set)
        target_hits: dict[int, set[int]] = defaultdict(set)
        closest: dict[int, int] = {}
        for position, hits in enumerate(self._frames.search_many(query, self.frame_radius)):
            for row, distance in zip(hits.rows.tolist(), hits.distances.tolist(), strict=True):
                video = int(self._frame_video[row])
                query_hits[video].add(position)
                target_hits[video].add(row)
                closest[video] = min(distance, closest.get(video, distance))
        matches = []
        for video, matched_query in query_hits.items():
            query_percent = 100.0 * len(matched_query) / len(query)
            target_percent = 100.0 * len(target_hits[video]) / len(self._video_rows[video])
            if query_percent >= self.match_percent and target_percent >= self.match_percent:
                matches.append(VideoMatch(video, query_percent, target_percent, closest[video]))
        return matches
