#!/usr/bin/env python3
"""Render synthetic meter photos with a mask of their digit windows: training data for the window detector.

    python training/render_windows.py --n 2500 --seed 1 --out /work/cache/win/w1.npz

Each photo (synth/meters.py: drum counters and LCDs on meter faces among serial numbers and other
printed digits, under perspective, glare, blur, noise) goes through JPEG at its own quality, is reduced
to ``detector.INPUT_LONG`` pixels on its long side and padded square (edge pixels repeated); the mask
marks every register's window at a quarter of that resolution (the detector's output grid).
"""
from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from recognizer.detector import INPUT_LONG, OUTPUT_STRIDE, to_input  # noqa: E402
from synth.meters import RenderConfig, encode_jpeg, photo_seed, render_meter  # noqa: E402


def render_one(seed, cfg: RenderConfig) -> tuple[np.ndarray, np.ndarray]:
    img, label = render_meter(seed, cfg)
    img = cv2.imdecode(np.frombuffer(encode_jpeg(img, label.jpeg_quality), np.uint8), cv2.IMREAD_COLOR)
    sq, f = to_input(img)  # exactly what the detector is given at run time
    g = INPUT_LONG // OUTPUT_STRIDE
    mask = np.zeros((g, g), np.uint8)
    for reg in label.registers:
        q = np.array(reg["window"], np.float32) * f / OUTPUT_STRIDE
        cv2.fillPoly(mask, [np.round(q * 4).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=2)
    return sq, mask


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--big-words", type=float, default=0.0, help="share of faces with large printed words (RenderConfig.big_words_p)")
    p.add_argument("--ladder", type=float, default=0.0, help="share of drum counters whose cell edges touch the digits (RenderConfig.ladder_drums_p)")
    p.add_argument("--band", type=float, default=0.0, help="share of white-on-dark drum bands in a light frame (RenderConfig.band_window_p)")
    p.add_argument("--small", type=float, default=0.0, help="share of meters small in the photo, often in a housing (RenderConfig.small_meter_p)")
    p.add_argument("--tilt3d", type=float, default=0.0, help="share of faces turned 15-45 degrees out of the photo plane (RenderConfig.tilt3d_p)")
    p.add_argument("--scene", type=float, default=0.0, help="share of textured scene backgrounds (RenderConfig.scene_bg_p)")
    p.add_argument("--decor", type=float, default=0.0, help="share of faces with stripes, barcode, dial, rim (RenderConfig.face_decor_p)")
    a = p.parse_args(argv)
    cfg = RenderConfig(big_words_p=a.big_words, ladder_drums_p=a.ladder, band_window_p=a.band, small_meter_p=a.small,
                       tilt3d_p=a.tilt3d, scene_bg_p=a.scene, face_decor_p=a.decor)
    X = np.zeros((a.n, INPUT_LONG, INPUT_LONG, 3), np.uint8)
    g = INPUT_LONG // OUTPUT_STRIDE
    Y = np.zeros((a.n, g, g), np.uint8)
    for i in range(a.n):
        X[i], Y[i] = render_one(photo_seed(1000 + a.seed, i), cfg)
        if i % 250 == 0:
            print(f"{i}/{a.n}", flush=True)
    np.savez_compressed(a.out, X=X, Y=Y)
    print(f"wrote {a.out}: {a.n} photos, window share {Y.mean():.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
