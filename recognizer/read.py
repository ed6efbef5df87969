"""Runs the stages in order: decode, quality, locate, deskew, segment, classify, assemble, judge."""
from __future__ import annotations

import time
from datetime import date

from pipeline.decode import decode

from .config import MeterSpec, RecognizerConfig
from .result import ReadResult


def read_photo(
    source,
    *,
    previous: str | None = None,
    previous_date: date | None = None,
    photo_date: date | None = None,
    meter: MeterSpec | None = None,
    config: RecognizerConfig | None = None,
    with_images: bool = False,
) -> ReadResult:
    """Read one photo (bytes or path). Raises ImageError for what is not a readable photo."""
    config = config or RecognizerConfig()
    t0 = time.perf_counter()
    decode(source, config.decode)
    # placeholder until the locate/classify stages land (same session): nothing is read yet
    return ReadResult(
        status="rejected", reading=None, confidence=0.0, registers=(), reason="The digit window was not found.",
        elapsed_ms=(time.perf_counter() - t0) * 1000,
    )
