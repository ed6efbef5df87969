#!/usr/bin/env python3
"""Make a line-reader ONNX file accept canvases of any width (same weights, same outputs).

    python training/dynamic_width.py models/reader.onnx [--out models/reader.onnx]

Models exported before 2026-12-04 fixed the input at 256 columns; the reader runs each strip on only as
many columns as it needs (recognizer.reader.canvas_width), which a fixed width refuses. The network is
convolutions, a squeeze and an LSTM along the width, so only the declared shapes change. Needs the
``onnx`` package (``pip install '.[train]'``); the runtime does not.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import onnx


def make_width_dynamic(src: Path, dst: Path) -> None:
    model = onnx.load(str(src))
    model.graph.input[0].type.tensor_type.shape.dim[3].dim_param = "width"
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_param = "frames"
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", type=Path)
    p.add_argument("--out", type=Path, default=None, help="default: overwrite MODEL")
    a = p.parse_args(argv)
    make_width_dynamic(a.model, a.out or a.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
