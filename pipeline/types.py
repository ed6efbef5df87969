"""What passes between the image stages. Frozen, so a stage can be tested on its own."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

WindowKind = Literal["drum", "lcd", "unknown"]


@dataclass(frozen=True)
class DecodedImage:
    """A photo decoded to BGR, EXIF orientation applied.

    ``scale`` maps original-photo pixels to ``image`` pixels (0.25 when decoded at a quarter size), so
    stages work on ``image`` and report geometry in original coordinates by dividing by ``scale``.
    """

    image: np.ndarray
    original_size: tuple[int, int]  # (width, height) of the photo as displayed (after EXIF rotation)
    scale: float
    format: str  # "JPEG" | "PNG" | "WEBP"

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]


@dataclass(frozen=True)
class QualityCheck:
    name: str  # "blur" | "glare" | "dark" | "small_digits"
    value: float
    ok: bool
    message: str | None  # what the person taking the photo should do, when not ok


@dataclass(frozen=True)
class QualityReport:
    checks: tuple[QualityCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> tuple[QualityCheck, ...]:
        return tuple(c for c in self.checks if not c.ok)


@dataclass(frozen=True)
class Window:
    """A digit window: four corners (tl, tr, br, bl) in original-photo pixels."""

    quad: np.ndarray  # float32 (4, 2)
    kind: WindowKind
    score: float = 0.0
    source: str = ""  # which proposer found it, for the debug image


@dataclass(frozen=True)
class NotFound:
    """A stage that found nothing: falsy, with a reason a person can read."""

    reason: str

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class Deskewed:
    """The window warped to an upright rectangle; ``homography`` maps original-photo points into it."""

    image: np.ndarray
    homography: np.ndarray  # 3x3, original -> deskewed
    window: Window


@dataclass(frozen=True)
class DigitBox:
    """One digit cell in deskewed-window pixels."""

    x0: int
    y0: int
    x1: int
    y1: int
    red: bool = False  # on a red drum / red background: a fractional digit
    after_point: bool = False  # a decimal point or comma stands before this digit
