"""Real files in image formats Haven refuses to decode (Pillow alone would open them)."""

from __future__ import annotations

import struct


def psd() -> bytes:
    """A 1x1 RGB Photoshop file, raw channel data."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 1, 1, 8, 3)
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + b"\x10\x20\x30"


def fits() -> bytes:
    """A 1x1 8-bit FITS image."""
    cards = ["SIMPLE  =                    T", "BITPIX  =                    8",
             "NAXIS   =                    2", "NAXIS1  =                    1",
             "NAXIS2  =                    1", "END"]  # fmt: skip
    header = "".join(card.ljust(80) for card in cards).ljust(2880).encode()
    return header + b"\x7f".ljust(2880, b"\x00")


REFUSED_FORMATS = {"PSD": psd, "FITS": fits}
