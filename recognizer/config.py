"""Explicit configuration of the recognizer: every option has a name here, none hides in **kwargs."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pipeline.decode import DecodeLimits

from .onnx import MODELS_DIR


@dataclass(frozen=True)
class MeterSpec:
    """What is known of the meter beforehand (from the account), all optional."""

    integer_digits: int | None = None
    fractional_digits: int | None = None
    kind: str | None = None  # electricity | water | gas


@dataclass(frozen=True)
class RecognizerConfig:
    engine: Literal["cnn", "tesseract", "auto"] = "cnn"
    digit_model: Path = MODELS_DIR / "digits.onnx"
    reader_model: Path = MODELS_DIR / "reader.onnx"  # the line reader the cnn engine runs
    decode: DecodeLimits = field(default_factory=DecodeLimits)
    # a reading is accepted when its confidence reaches this: `bench/calibrate.py --rounded --target 0.9`
    # on the eval of ../shared/data/photos fits 0.71 (a 90% lower bound on the precision of accepted reads,
    # rounded fuel-pump labels counted right); 0.90 is kept, stricter, until real labelled photos of more
    # meters can set it
    accept_threshold: float = 0.90
    # quality checks whose failure does not hold back a sure reading (its message still says what to do
    # when the reading is unsure). The blur measure flags 34 of 429 fuel-pump photos, sharp large LCD
    # segments among them, and the reader was sure and right on 33 of those (the 34th was unsure); on the
    # project's synthetic photos blurred by sigma 3-4 px, the sure reads it flagged were all right
    advisory_checks: tuple[str, ...] = ("blur",)
    # consumption per day above which a reading is implausible (m3, kWh): a household's generous upper bound
    max_per_day: float = 200.0
    max_consumption_no_dates: float = 5000.0
    # red-pointer dials carry the fraction of many water meters: read them where no red drum or point was
    # the window detector's proposals (models/detector.onnx) join the classical ones
    detector: bool = True
    # where the chosen window reads turned over with a decimal point it lacks upright, read the photo turned
    # over too (recognizer/read.py: turned_over_hint): seven-segment digits read as digits upside down
    check_upside_down: bool = True
    # where the upright read is unsure and the photo's digit rows run up or down it (taken sideways, the
    # orientation tag lost), read it turned a quarter each way; a sure read replaces the upright one
    # (recognizer/read.py: SIDEWAYS_ASK)
    check_sideways: bool = True
    read_dials: bool = False  # off by default: see pipeline/dials.py for how far it is
    min_dial_confidence: float = 0.5
