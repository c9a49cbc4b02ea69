"""Our JavaScript vPDQ (vpdq.js) agrees with Meta's reference output on the sample videos.

Frames are decoded by ffmpeg at one per second, taking the first frame at or after each
whole second (what a browser shows after seeking a <video> to t = 0, 1, 2, ...; also the
frames Meta's vPDQ hashes with seconds_per_hash=1). vpdq.js hashes them under Node and
the result is compared with the reference `*.vpdq.txt`, which lists every frame at the
video's native rate.
"""

from __future__ import annotations

import csv
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.infra import require_tool

from .harness import hamming, run_harness

DISTANCE_THRESHOLD = 31
QUALITY_THRESHOLD = 50
MATCH_PERCENT = 80.0
# Same decoder family as the reference, so frames should agree to within a few bits.
MAX_BITS_PER_FRAME = 8

PROBE_SIZE = [
    *("ffprobe", "-v", "error", "-select_streams", "v:0"),
    *("-show_entries", "stream=width,height", "-of", "json"),
]
# The first frame at or after each whole second, as raw RGBA, one frame after another.
ONE_FRAME_PER_SECOND_RGBA = [
    *("-vf", r"select=isnan(prev_selected_t)+gte(t-prev_selected_t\,1)"),
    *("-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba"),
]


@dataclass(frozen=True)
class Frame:
    pdq: str
    quality: int
    timestamp: float

    def as_json(self) -> dict[str, Any]:
        return {"pdq": self.pdq, "quality": self.quality, "timestamp": self.timestamp}


@dataclass(frozen=True)
class Video:
    name: str
    ours: list[Frame]
    reference: list[Frame]
    reference_text: str


def parse_reference(text: str) -> list[Frame]:
    frames = []
    for line in text.splitlines():
        if line.strip():
            _number, quality, pdq, timestamp = line.split(",")
            frames.append(Frame(pdq, int(quality), float(timestamp)))
    return frames


def reference_at_one_fps(reference: list[Frame]) -> list[Frame]:
    """The reference frames a 1 fps sampler hashes: the first at or after each second."""
    picked: list[Frame] = []
    for frame in reference:
        if not picked or frame.timestamp >= picked[-1].timestamp + 1 - 1e-6:
            picked.append(frame)
    return picked


def rule_percentages(query: list[Frame], target: list[Frame]) -> tuple[float, float]:
    """The vPDQ rule, written independently in Python to cross-check vpdq.js."""
    q = list(dict.fromkeys(f.pdq for f in query if f.quality >= QUALITY_THRESHOLD))
    t = list(dict.fromkeys(f.pdq for f in target if f.quality >= QUALITY_THRESHOLD))
    if not q or not t:
        return 0.0, 0.0
    q_hits = sum(any(hamming(a, b) <= DISTANCE_THRESHOLD for b in t) for a in q)
    t_hits = sum(any(hamming(b, a) <= DISTANCE_THRESHOLD for a in q) for b in t)
    return q_hits * 100 / len(q), t_hits * 100 / len(t)


def js_match(node: str, pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return run_harness(node, "vpdq_match_harness.mjs", stdin=json.dumps(pairs).encode())


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    require_tool("ffprobe", package="ffmpeg")
    return require_tool("ffmpeg", package="ffmpeg")


def frame_size(video: Path) -> tuple[int, int]:
    probe = subprocess.run(
        [*PROBE_SIZE, str(video)],
        capture_output=True,
        check=True,
        timeout=30,
    )
    stream = json.loads(probe.stdout)["streams"][0]
    return int(stream["width"]), int(stream["height"])


def decode_one_fps(ffmpeg: str, video: Path, out: Path) -> None:
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-i", str(video), *ONE_FRAME_PER_SECOND_RGBA, str(out)],
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def videos(
    node: str, ffmpeg: str, testdata: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[Video]:
    video_dir = testdata / "video"
    with (video_dir / "md5.csv").open(newline="") as f:
        names = [row["file"] for row in csv.DictReader(f)]
    workdir = tmp_path_factory.mktemp("vpdq-frames")
    result = []
    for name in names:
        path = video_dir / name
        raw = workdir / f"{path.stem}.rgba"
        decode_one_fps(ffmpeg, path, raw)
        width, height = frame_size(path)
        rows = run_harness(node, "vpdq_harness.mjs", str(raw), str(width), str(height), "1")
        ours = [Frame(r["pdq"], r["quality"], r["timestamp"]) for r in rows]
        text = (video_dir / f"{path.stem}.vpdq.txt").read_text()
        result.append(Video(name, ours, parse_reference(text), text))
    return result


def test_one_frame_per_second(videos: list[Video]) -> None:
    for video in videos:
        duration = video.reference[-1].timestamp
        assert len(video.ours) == int(duration) + 1, video.name
        assert [f.timestamp for f in video.ours] == list(range(len(video.ours)))
        assert all(f.quality >= QUALITY_THRESHOLD for f in video.ours), video.name


def test_each_frame_equals_the_reference_frame_at_that_second(videos: list[Video]) -> None:
    print("\nvPDQ bits differing from the reference frame at the same second:")
    for video in videos:
        sampled = reference_at_one_fps(video.reference)
        assert len(sampled) == len(video.ours), video.name
        distances = [hamming(o.pdq, r.pdq) for o, r in zip(video.ours, sampled, strict=True)]
        print(f"  {video.name}: max {max(distances)} over {len(distances)} frames")
        assert max(distances) <= MAX_BITS_PER_FRAME, (video.name, distances)


def test_matches_reference_under_vpdq_rule(node: str, videos: list[Video]) -> None:
    pairs: list[dict[str, Any]] = []
    for video in videos:
        ours = [f.as_json() for f in video.ours]
        sampled = [f.as_json() for f in reference_at_one_fps(video.reference)]
        pairs.append({"query": ours, "target": sampled})
        pairs.append({"query": ours, "targetText": video.reference_text})
    results = js_match(node, pairs)
    print("\nvPDQ match, query% / target%:")
    for index, video in enumerate(videos):
        at_one_fps, native = results[2 * index], results[2 * index + 1]
        print(
            f"  {video.name}: vs reference at 1 fps {at_one_fps['queryMatchPercent']:.0f}"
            f"/{at_one_fps['targetMatchPercent']:.0f}, vs every reference frame"
            f" {native['queryMatchPercent']:.0f}/{native['targetMatchPercent']:.1f}"
        )
        # Same sampling rate: a match both ways, as Haven's contract requires.
        assert at_one_fps["match"], (video.name, at_one_fps)
        # Against every native-rate frame, all our frames are found (Meta's query rule);
        # the reverse share is low by construction (29 of 30 frames were not sampled).
        assert native["queryMatchPercent"] >= MATCH_PERCENT, (video.name, native)
        expected = rule_percentages(video.ours, video.reference)
        assert native["queryMatchPercent"] == pytest.approx(expected[0])
        assert native["targetMatchPercent"] == pytest.approx(expected[1])


def test_different_videos_do_not_match(node: str, videos: list[Video]) -> None:
    pattern = next(v for v in videos if v.name.startswith("pattern"))
    chairs = [v for v in videos if v.name.startswith("chair")]
    assert chairs
    pairs = [
        {"query": [f.as_json() for f in pattern.ours], "target": [f.as_json() for f in c.ours]}
        for c in chairs
    ]
    for chair, result in zip(chairs, js_match(node, pairs), strict=True):
        assert not result["match"], (chair.name, result)
