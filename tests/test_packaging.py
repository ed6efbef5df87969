"""The shipped models install with the packages: a wheel must find them where a checkout does."""
from __future__ import annotations

import tomllib
from pathlib import Path

from recognizer.onnx import MODELS_DIR

REPO = Path(__file__).resolve().parents[1]


def test_models_are_package_data():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "models" in cfg["packages"]["find"]["include"]
    assert "*.onnx" in cfg["package-data"]["models"] and "*.json" in cfg["package-data"]["models"]
    assert (REPO / "models" / "__init__.py").is_file()


def test_every_model_has_its_card_where_the_code_looks():
    onnx = sorted(p.stem for p in MODELS_DIR.glob("*.onnx"))
    assert {"reader", "detector", "digits"} <= set(onnx)
    assert all((MODELS_DIR / f"{name}.json").is_file() for name in onnx)
