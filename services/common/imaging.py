"""Server-side fingerprints of an image: PDQ (Meta's C++ via ``pdqhash``) + MD5, for the
matcher (an image a platform sends) and the ``haven hash`` CLI (a local file) alike.

The image exists only as bytes in memory: it is decoded from a ``BytesIO`` and dropped when the
function returns, never written to a file (no multipart parsing, which spools large parts to
disk). Decoding follows the reference pipeline the shared test data was computed with: Pillow,
EXIF orientation applied, converted to RGB, hashed at full resolution, so the server's PDQ is
the same as ``testdata/pdq/expected.csv``.

Decompression bombs are refused by pixel count before the pixels are decoded. Only the formats
of ``FORMATS`` are ever tried (Pillow's ``formats=``): the photo formats phones and browsers
make. Pillow knows dozens more (PSD, FITS, SGI, TGA, …), several with recent CVEs in their
decoders; bytes in those formats are refused as ``not_an_image`` without their decoder
running. HEIF would need the ``pillow-heif`` plugin, which Haven does not install.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, ImageOps, UnidentifiedImageError

FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")


class ImageRejected(ValueError):
    """The bytes are not an image Haven can fingerprint; ``reason`` is a stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ImageFingerprints:
    md5: str
    pdq: str
    quality: int
    width: int
    height: int


def fingerprint_image(data: bytes, *, max_pixels: int) -> ImageFingerprints:
    """MD5 of the exact bytes and PDQ of the decoded picture; raises ImageRejected."""
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageRejected(
                        "image_too_large",
                        f"image is {width}x{height} pixels; at most {max_pixels} pixels",
                    )
                upright = ImageOps.exif_transpose(image)
                rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("image_too_large", "image has too many pixels to decode") from None
    except UnidentifiedImageError:
        raise ImageRejected(
            "not_an_image",
            f"the body is not an image in a format Haven decodes ({', '.join(FORMATS)})",
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected("corrupt_image", f"the image could not be decoded: {exc}") from None
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ImageRejected("corrupt_image", "the image has no pixels")
    pdq, quality = pdq_of_pixels(rgb)
    return ImageFingerprints(md5, pdq, quality, width, height)


def pdq_of_pixels(rgb: np.ndarray) -> tuple[str, int]:
    """PDQ hex and quality of an ``(h, w, 3)`` RGB array (a decoded image or video frame)."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb, dtype=np.uint8))
    value = int("".join("1" if bit else "0" for bit in bits.tolist()), 2)
    return f"{value:064x}", int(quality)
