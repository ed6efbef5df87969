"""meterread's recognizer: models, OCR engines, confidence and plausibility, and the one function that
runs the image stages in order (:func:`read_photo`)."""
from pipeline.decode import ImageError

from .result import DigitRead, Plausibility, ReadResult, Register
from .config import MeterSpec, RecognizerConfig
from .read import read_photo

__all__ = [
    "DigitRead",
    "ImageError",
    "MeterSpec",
    "Plausibility",
    "ReadResult",
    "RecognizerConfig",
    "Register",
    "read_photo",
]
