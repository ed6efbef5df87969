"""Decode a photo from bytes or a path: format check, pixel limit before decoding, EXIF orientation,
reduced-size decoding for large photos."""
from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .types import DecodedImage

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
# Pillow's names for formats that are one of ours: many phones save multi-picture JPEGs ("MPO")
FORMAT_ALIASES = {"MPO": "JPEG"}


class ImageError(ValueError):
    """A photo that cannot be read. ``code`` is stable (for the API), ``str()`` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DecodeLimits:
    max_bytes: int = 40 * 1024 * 1024
    max_pixels: int = 50_000_000  # checked from the header, before any pixel is decoded
    # the pipeline needs no more than this many pixels on the long side; JPEGs are decoded at 1/2, 1/4
    # or 1/8 scale by the codec itself (draft mode), which is where the time goes on phone photos
    work_long_side: int = 1024
    # the codec scales by halves: a JPEG may come out down to this share of work_long_side, so that a
    # 4032-px phone photo is decoded at 1/4 (1008 px) instead of at 1/2 and then resized
    draft_floor: float = 0.9


def _read_bytes(source: bytes | str | os.PathLike) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    with open(source, "rb") as fh:
        return fh.read()


def decode(source: bytes | str | os.PathLike, limits: DecodeLimits = DecodeLimits()) -> DecodedImage:
    data = _read_bytes(source)
    if not data:
        raise ImageError("empty", "The file is empty: no photo was received.")
    if len(data) > limits.max_bytes:
        raise ImageError(
            "too_large", f"The file is {len(data) / 1e6:.0f} MB; photos up to {limits.max_bytes / 1e6:.0f} MB are accepted."
        )
    if data[:5] == b"%PDF-":
        raise ImageError("not_an_image", "This is a PDF document, not a photo. Please send a JPEG, PNG or WebP photo.")
    with warnings.catch_warnings():
        # Pillow warns (then errors) on huge images; we check the size ourselves with a clear message
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", message="(?i).*corrupt exif.*")  # a broken EXIF block is not the user's fault
        try:
            im = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:  # over twice Pillow's own limit, refused from the header
            raise ImageError(
                "too_many_pixels",
                f"The photo has too many pixels; at most {limits.max_pixels / 1e6:.0f} megapixels are accepted.",
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise ImageError("not_an_image", "This file is not a photo we can read (JPEG, PNG or WebP).") from exc
        fmt = FORMAT_ALIASES.get(im.format, im.format)
        if fmt not in ACCEPTED_FORMATS:
            raise ImageError("unsupported_format", f"{im.format} images are not accepted; please send a JPEG, PNG or WebP photo.")
        w, h = im.size
        if w * h > limits.max_pixels:
            raise ImageError(
                "too_many_pixels",
                f"The photo is {w}x{h} ({w * h / 1e6:.0f} megapixels); at most {limits.max_pixels / 1e6:.0f} megapixels are accepted.",
            )
        if w < 32 or h < 32:
            raise ImageError("too_small", f"The photo is only {w}x{h} pixels; the meter cannot be read from it.")
        try:
            exif_orientation = im.getexif().get(0x0112, 1)
        except Exception:  # a broken EXIF block must not lose the photo
            exif_orientation = 1
        if fmt == "JPEG" and max(w, h) > limits.work_long_side:
            want = limits.work_long_side * limits.draft_floor
            im.draft("RGB", (max(1, int(w * want / max(w, h))), max(1, int(h * want / max(w, h)))))
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            raise ImageError("truncated", "The photo is damaged or incomplete; please send it again.") from exc
        if exif_orientation != 1:
            im = ImageOps.exif_transpose(im)
        scale = im.size[0] / (h if exif_orientation in (5, 6, 7, 8) else w)
        original = (h, w) if exif_orientation in (5, 6, 7, 8) else (w, h)
        if im.mode != "RGB":  # convert() copies even an RGB image: half a millisecond of a 1024-px photo
            im = im.convert("RGB")
        # Pillow writes the pixels out in OpenCV's channel order itself: one copy instead of an array and a
        # conversion (the same bytes, 0.6 ms less a photo)
        arr = np.frombuffer(im.tobytes("raw", "BGR"), np.uint8).reshape(im.size[1], im.size[0], 3)
    long_side = max(arr.shape[:2])
    if long_side > limits.work_long_side:
        f = limits.work_long_side / long_side
        arr = cv2.resize(arr, (round(arr.shape[1] * f), round(arr.shape[0] * f)), interpolation=cv2.INTER_AREA)
        scale *= f
    arr.setflags(write=False)  # every stage reads the photo; none may change it under the others
    return DecodedImage(image=arr, original_size=original, scale=scale, format=fmt)
