"""Fingerprints of local files for the CLI: the same signals the web page computes.

Images: PDQ with Meta's reference implementation (the ``pdqhash`` package) on the pixels
Pillow decodes after applying the EXIF orientation, plus MD5 of the file bytes. Videos: MD5 of
the file, and vPDQ frames sampled at one per second with Meta's ``vpdq`` package (the ``cli``
extra; it builds against FFmpeg's development libraries, which deploy/local/stack.py
installs). Where ``vpdq`` is not installed, frames are decoded by the ``ffmpeg`` binary
(``fps=1``, raw RGB on a pipe) and hashed with ``pdqhash`` — the same PDQ per frame, at the
page's sampling rate, which the vPDQ rule (≥ 80 % of frames within distance 31) compares
against any other sampling of the same video.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from services.common.imaging import ImageRejected, fingerprint_image, pdq_of_pixels

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".3gp", ".mpg", ".mpeg"}
CHUNK = 1 << 20
MAX_IMAGE_PIXELS = 89_478_485  # Pillow's own decompression-bomb limit: a local file may be big


class FingerprintError(Exception):
    """A file that cannot be fingerprinted (with a reason a person understands)."""


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def image_fingerprints(path: Path) -> dict[str, Any]:
    try:
        prints = fingerprint_image(path.read_bytes(), max_pixels=MAX_IMAGE_PIXELS)
    except ImageRejected as exc:
        raise FingerprintError(f"{path.name}: not an image this tool can read ({exc})") from exc
    return {"type": "image", "pdq": prints.pdq, "quality": prints.quality, "md5": prints.md5}


def _dimensions(path: Path) -> tuple[int, int]:
    probe = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0",
            "-show_entries", "stream=width,height", "-of", "json", str(path),
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    try:
        stream = json.loads(probe.stdout)["streams"][0]
        return int(stream["width"]), int(stream["height"])
    except (ValueError, KeyError, IndexError) as exc:
        raise FingerprintError(f"{path.name}: no video stream found") from exc


def video_fingerprints(path: Path) -> dict[str, Any]:
    try:
        import vpdq
    except ImportError:
        return _video_fingerprints_ffmpeg(path)
    try:
        features = vpdq.computeHash(str(path), seconds_per_hash=1)
    except Exception as exc:  # vpdq raises plain exceptions for unreadable files
        raise FingerprintError(f"{path.name}: the video could not be decoded") from exc
    if not features:
        raise FingerprintError(f"{path.name}: the video could not be decoded")
    frames = [
        {"pdq": f.hex, "quality": int(f.quality), "timestamp": float(f.timestamp)} for f in features
    ]
    return {"type": "video", "md5": file_md5(path), "frames": frames}


def _video_fingerprints_ffmpeg(path: Path) -> dict[str, Any]:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise FingerprintError("hashing videos needs ffmpeg and ffprobe on PATH")
    width, height = _dimensions(path)
    decode = subprocess.run(
        [
            "ffmpeg", "-v", "error", "-noautorotate", "-i", str(path),
            "-vf", "fps=1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1",
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    frame_bytes = width * height * 3
    count = len(decode.stdout) // frame_bytes
    if decode.returncode != 0 or count == 0:
        raise FingerprintError(f"{path.name}: ffmpeg could not decode the video")
    frames = []
    for index in range(count):
        raw = decode.stdout[index * frame_bytes : (index + 1) * frame_bytes]
        pdq, quality = pdq_of_pixels(np.frombuffer(raw, np.uint8).reshape(height, width, 3))
        frames.append({"pdq": pdq, "quality": quality, "timestamp": float(index)})
    return {"type": "video", "md5": file_md5(path), "frames": frames}


def fingerprints(path: Path) -> dict[str, Any]:
    """The media item for one file (as ``POST /v1/cases`` takes it)."""
    if not path.is_file():
        raise FingerprintError(f"{path}: no such file")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return video_fingerprints(path)
    return image_fingerprints(path)
