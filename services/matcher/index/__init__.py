"""The matcher's in-memory index: exact PDQ radius search, MD5 lookup and vPDQ video rule.

Pure logic (numpy only), so the match API, the Kafka consumer that feeds it and the
benchmark in ``bench/matcher.py`` all use the same code.
"""

from services.matcher.index.pdq import DEFAULT_RADIUS, PdqHits, PdqIndex
from services.matcher.index.signal_index import SignalIndex, SignalMatch, VideoFrames
from services.matcher.index.vpdq import VideoMatch, VpdqIndex, prepare_frames

__all__ = [
    "DEFAULT_RADIUS",
    "PdqHits",
    "PdqIndex",
    "SignalIndex",
    "SignalMatch",
    "VideoFrames",
    "VideoMatch",
    "VpdqIndex",
    "prepare_frames",
]
