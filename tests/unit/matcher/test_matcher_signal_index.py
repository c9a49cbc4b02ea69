"""The facade: PDQ, MD5 and vPDQ entries added, replaced, withdrawn and matched by key."""

from __future__ import annotations

import csv
from itertools import combinations
from pathlib import Path

import pytest

from schemas.signals import SignalType
from services.matcher.index import SignalIndex, VideoFrames

VIDEOS = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "video"
NAMES = ["chair-19-sd-bar", "chair-22-sd-grey-bar", "pattern-sd-grey-bar"]


def load_video(name: str) -> VideoFrames:
    lines = (VIDEOS / f"{name}.vpdq.txt").read_text().split()
    return [(parts[2], int(parts[1])) for parts in (line.split(",") for line in lines)]


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def reference_rule(query: VideoFrames, target: VideoFrames) -> bool:
    """Meta's vpdq README comparison, written out plainly, with Haven's 80 % / 80 %."""
    q = sorted({h for h, quality in query if quality >= 50})
    t = sorted({h for h, quality in target if quality >= 50})
    q_matched = sum(any(hamming(a, b) <= 31 for b in t) for a in q)
    t_matched = sum(any(hamming(b, a) <= 31 for a in q) for b in t)
    return q_matched * 100 / len(q) >= 80 and t_matched * 100 / len(t) >= 80


@pytest.fixture(scope="module")
def videos() -> dict[str, VideoFrames]:
    return {name: load_video(name) for name in NAMES}


def test_video_matches_itself_and_what_the_reference_rule_says(
    videos: dict[str, VideoFrames],
) -> None:
    index = SignalIndex()
    for name, frames in videos.items():
        index.add_vpdq(f"vpdq:{name}", frames)
    for name, frames in videos.items():
        matched = {m.key for m in index.match_vpdq(frames)}
        expected = {f"vpdq:{other}" for other in NAMES if reference_rule(frames, videos[other])}
        assert f"vpdq:{name}" in matched
        assert matched == expected
    assert index.count(SignalType.VPDQ) == 3


def test_chair_videos_are_judged_by_the_rule_not_by_name(videos: dict[str, VideoFrames]) -> None:
    """Pairs of different videos: the index agrees with the reference in both directions."""
    for a, b in combinations(NAMES, 2):
        index = SignalIndex()
        index.add_vpdq("banked", videos[b])
        assert bool(index.match_vpdq(videos[a])) == reference_rule(videos[a], videos[b])
    index = SignalIndex()
    index.add_vpdq("chair", videos["chair-19-sd-bar"])
    assert index.match_vpdq(videos["pattern-sd-grey-bar"]) == []


def test_self_match_reports_full_percentages(videos: dict[str, VideoFrames]) -> None:
    index = SignalIndex()
    index.add_vpdq("v", videos["pattern-sd-grey-bar"])
    (match,) = index.match_vpdq(videos["pattern-sd-grey-bar"])
    assert (match.distance, match.query_match_percent, match.target_match_percent) == (0, 100, 100)
    assert index.remove("v")
    assert index.match_vpdq(videos["pattern-sd-grey-bar"]) == []


def test_video_without_good_frames_is_refused() -> None:
    with pytest.raises(ValueError, match="quality"):
        SignalIndex().add_vpdq("v", [("0" * 64, 10)])


def test_md5_exact_match_and_withdrawal() -> None:
    rows = list(csv.DictReader((VIDEOS / "md5.csv").open()))
    index = SignalIndex()
    for row in rows:
        index.add_md5(f"md5:{row['md5']}", row["md5"].upper())
    for row in rows:
        assert [m.key for m in index.match_md5(row["md5"])] == [f"md5:{row['md5']}"]
    assert index.match_md5("0" * 32) == []
    assert index.remove(f"md5:{rows[0]['md5']}")
    assert index.match_md5(rows[0]["md5"]) == []
    with pytest.raises(ValueError, match="'abc' is not a valid MD5"):
        index.add_md5("md5:abc", "abc")


def test_pdq_add_replay_replace_remove() -> None:
    index = SignalIndex()
    base = "f" * 64
    near = "0" + "f" * 63  # 4 bits away
    index.add_pdq("pdq:a", base)
    index.add_pdq("pdq:a", base.upper())  # replayed message: no duplicate
    assert [(m.key, m.distance) for m in index.match_pdq(near)] == [("pdq:a", 4)]
    assert index.match_pdq(near, radius=3) == []
    index.add_pdq("pdq:a", "0" * 64)  # a new value for the key replaces the old one
    assert index.match_pdq(near) == []
    assert [m.distance for m in index.match_pdq(near, radius=255)] == [252]
    assert index.size() == 1
    assert index.remove("pdq:a")
    assert not index.remove("pdq:a")
    assert index.match_pdq("0" * 64) == []
    assert index.size() == 0
