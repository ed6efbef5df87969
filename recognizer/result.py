"""The typed result of reading one photo, and its JSON form (the CLI's and the API's)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["accepted", "needs_review", "rejected"]


@dataclass(frozen=True)
class DigitRead:
    value: str  # "0".."9", or "?" when unreadable
    confidence: float  # 0..1
    fractional: bool
    rolling: bool = False  # drum caught between value and the next digit
    alternative: str | None = None  # the other candidate of a rolling digit


@dataclass(frozen=True)
class Register:
    reading: str | None
    confidence: float
    digits: tuple[DigitRead, ...] = ()
    window: tuple[tuple[float, float], ...] | None = None  # tl, tr, br, bl in original pixels
    kind: str = "unknown"


@dataclass(frozen=True)
class Plausibility:
    previous: str | None
    consumption: float | None
    per_day: float | None
    ok: bool
    reason: str | None


@dataclass(frozen=True)
class ReadResult:
    status: Status
    reading: str | None
    confidence: float
    registers: tuple[Register, ...]
    reason: str | None
    elapsed_ms: float
    file: str | None = None
    quality: tuple[dict, ...] = ()
    plausibility: Plausibility | None = None
    engine: str = "cnn"
    stages_ms: dict[str, float] = field(default_factory=dict)
    # read with the photo turned (it was taken upside down or sideways): ``rotation`` degrees clockwise;
    # windows are in the photo's own pixels all the same, the crop and the debug overlay show it upright
    turned: bool = False
    rotation: int = 0
    # encoded images when asked for: the window crop ("crop", PNG) and the debug overlay ("debug", JPEG)
    images: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    @property
    def digits(self) -> tuple[DigitRead, ...]:
        return self.registers[0].digits if self.registers else ()

    @property
    def window(self):
        return self.registers[0].window if self.registers else None

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "reading": self.reading,
            "confidence": round(float(self.confidence), 4),
            "registers": [
                {
                    "reading": r.reading,
                    "confidence": round(float(r.confidence), 4),
                    "kind": r.kind,
                    "window": [list(map(lambda v: round(float(v), 1), p)) for p in r.window] if r.window else None,
                }
                for r in self.registers
            ],
            "digits": [
                {
                    "value": d.value,
                    "confidence": round(float(d.confidence), 4),
                    "fractional": d.fractional,
                    "rolling": d.rolling,
                    "alternative": d.alternative,
                }
                for d in self.digits
            ],
            "window": [list(map(lambda v: round(float(v), 1), p)) for p in self.window] if self.window else None,
            "reason": self.reason,
            "quality": list(self.quality),
            "plausibility": None
            if self.plausibility is None
            else {
                "previous": self.plausibility.previous,
                "consumption": self.plausibility.consumption,
                "per_day": self.plausibility.per_day,
                "ok": self.plausibility.ok,
                "reason": self.plausibility.reason,
            },
            "engine": self.engine,
            "turned": self.turned,
            "rotation": self.rotation,
            "elapsed_ms": round(float(self.elapsed_ms), 1),
        }
