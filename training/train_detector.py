#!/usr/bin/env python3
"""Train the window detector (``models/detector.onnx``) on synthetic meter photos.

    python training/render_windows.py --n 2500 --seed 1 --out /work/cache/win/w1.npz   # and seed 2 ...
    python training/train_detector.py --data /work/cache/win/w1.npz,/work/cache/win/w2.npz --epochs 8

A small encoder-decoder (about 140 k parameters) marks each quarter-resolution cell of a 256-px photo
as digit window or not. Augmented beyond the renderer: scale, shift and rotation, colour, gamma, grey,
blur and noise. Needs PyTorch (``pip install torch==2.13.0``) and onnx; the runtime does not.
Validation: the last 5% of the data, as intersection over union of the thresholded mask.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from recognizer.detector import INPUT_LONG, OUTPUT_STRIDE, preprocess  # noqa: E402
from recognizer.onnx import sha256_file  # noqa: E402


def cbr(i: int, o: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(i, o, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class DetectorNet(nn.Module):
    """Down to 1/16 (dilated convolutions widen the view to the whole face), back up to 1/4 with skips.
    Thin at full resolution, where the time goes (about 120 M multiply-adds at 256 px)."""

    def __init__(self):
        super().__init__()
        self.e1 = cbr(3, 12, 2)  # 1/2
        self.e2 = cbr(12, 24, 2)  # 1/4
        self.e3 = nn.Sequential(cbr(24, 48, 2), cbr(48, 48))  # 1/8
        self.e4 = nn.Sequential(cbr(48, 64, 2), cbr(64, 64, dilation=2), cbr(64, 64, dilation=4))  # 1/16
        self.d3 = cbr(64 + 48, 24)
        self.d2 = cbr(24 + 24, 12)
        self.head = nn.Conv2d(12, 1, 1)

    def forward(self, x):
        f2 = self.e2(self.e1(x))
        f3 = self.e3(f2)
        f4 = self.e4(f3)
        u3 = self.d3(torch.cat([F.interpolate(f4, scale_factor=2.0, mode="bilinear", align_corners=False), f3], 1))
        u2 = self.d2(torch.cat([F.interpolate(u3, scale_factor=2.0, mode="bilinear", align_corners=False), f2], 1))
        return self.head(u2)


def augment(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One photo and its mask, moved, scaled, turned and recoloured alike."""
    S = INPUT_LONG
    big = cv2.resize(y, (S, S), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    scale = float(np.exp(rng.uniform(np.log(0.6), np.log(1.4))))
    angle = float(rng.uniform(-12, 12))
    M = cv2.getRotationMatrix2D((S / 2, S / 2), angle, scale)
    M[:, 2] += rng.uniform(-0.2, 0.2, 2) * S
    x = cv2.warpAffine(x, M, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    big = cv2.warpAffine(big, M, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    g = S // OUTPUT_STRIDE
    y = (cv2.resize(big, (g, g), interpolation=cv2.INTER_AREA) >= 0.5).astype(np.float32)
    xf = x.astype(np.float32)
    if rng.random() < 0.3:
        xf = np.repeat(xf.mean(axis=2, keepdims=True), 3, axis=2)
    xf *= rng.uniform(0.7, 1.3, 3)[None, None, :]
    xf = 255.0 * (np.clip(xf, 0, 255) / 255.0) ** rng.uniform(0.6, 1.6)
    if rng.random() < 0.3:
        k = int(rng.choice([3, 5]))
        xf = cv2.GaussianBlur(xf, (k, k), 0)
    xf += rng.normal(0, rng.uniform(0, 10), xf.shape)
    return np.clip(xf, 0, 255).astype(np.uint8), y


def load(paths: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Photos and masks of several files, brought to this network's input size where rendered at another."""
    Xs, Ys = [], []
    g = INPUT_LONG // OUTPUT_STRIDE
    for path in paths:
        part = np.load(path)
        X, Y = part["X"], part["Y"]
        if X.shape[1] != INPUT_LONG:
            X = np.stack([cv2.resize(x, (INPUT_LONG, INPUT_LONG), interpolation=cv2.INTER_AREA) for x in X])
            Y = np.stack([(cv2.resize(y.astype(np.float32), (g, g), interpolation=cv2.INTER_AREA) >= 0.5).astype(np.uint8) for y in Y])
        Xs.append(X)
        Ys.append(Y)
    return np.concatenate(Xs), np.concatenate(Ys)


def iou(logits: torch.Tensor, y: torch.Tensor) -> float:
    p = logits > 0
    t = y > 0.5
    return float((p & t).sum()) / max(1.0, float((p | t).sum()))


def export_onnx(model: nn.Module, path: Path) -> None:
    model.eval()
    dummy = torch.zeros(1, 3, INPUT_LONG, INPUT_LONG)
    torch.onnx.export(model, dummy, str(path), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17, dynamo=False)
    import onnxruntime as ort

    x = np.random.default_rng(0).normal(0, 1, (2, 3, INPUT_LONG, INPUT_LONG)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    assert np.allclose(ref, got, atol=1e-3), "onnx export mismatch"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="comma-separated npz files of training/render_windows.py")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--max-minutes", type=float, default=30)
    p.add_argument("--out", type=Path, default=Path("models/detector.onnx"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--val", default="", help="comma-separated npz files held out for a second validation figure (e.g. rendered with other options)")
    a = p.parse_args(argv)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    X, Y = load(a.data.split(","))
    n_val = max(32, len(X) // 20)
    Xv, Yv = X[-n_val:], Y[-n_val:]
    X, Y = X[:-n_val], Y[:-n_val]
    model = DetectorNet()
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    steps = a.epochs * (len(X) // a.bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.15)
    xv = torch.from_numpy(preprocess(Xv))
    yv = torch.from_numpy(Yv[:, None].astype(np.float32))
    extra = None
    if a.val:
        Xe, Ye = load(a.val.split(","))
        extra = (torch.from_numpy(preprocess(Xe)), torch.from_numpy(Ye[:, None].astype(np.float32)))
    v_extra = None
    t0 = time.time()
    step = 0
    for epoch in range(a.epochs):
        model.train()
        order = rng.permutation(len(X))
        losses = []
        for b in range(len(X) // a.bs):
            idx = order[b * a.bs:(b + 1) * a.bs]
            pairs = [augment(X[i], Y[i], rng) for i in idx]
            xb = torch.from_numpy(preprocess(np.stack([q[0] for q in pairs])))
            yb = torch.from_numpy(np.stack([q[1] for q in pairs])[:, None])
            out = model(xb)
            bce = F.binary_cross_entropy_with_logits(out, yb, pos_weight=torch.tensor(3.0))
            pr = torch.sigmoid(out)
            dice = 1 - (2 * (pr * yb).sum() + 1) / (pr.sum() + yb.sum() + 1)
            loss = bce + dice
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(float(loss))
            if (time.time() - t0) / 60 > a.max_minutes:
                break
        model.eval()
        with torch.no_grad():
            v = iou(model(xv), yv)
            if extra is not None:
                v_extra = iou(torch.cat([model(extra[0][k:k + 64]) for k in range(0, len(extra[0]), 64)]), extra[1])
        more = f", held-out IoU {v_extra:.3f}" if v_extra is not None else ""
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}, val IoU {v:.3f}{more}, {time.time() - t0:.0f}s", flush=True)
        if (time.time() - t0) / 60 > a.max_minutes:
            print("time limit reached", flush=True)
            break
    a.out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model, a.out)
    card = {
        "name": "meterread window detector",
        "file": "detector.onnx",
        "sha256": sha256_file(a.out),
        "size_bytes": a.out.stat().st_size,
        "input": {"shape": ["N", 3, INPUT_LONG, INPUT_LONG], "function": "recognizer.detector.to_input + preprocess"},
        "output": f"logits (N, 1, {INPUT_LONG // OUTPUT_STRIDE}, {INPUT_LONG // OUTPUT_STRIDE}): digit window per {OUTPUT_STRIDE}x{OUTPUT_STRIDE} cell",
        "params": n_params,
        "data": "synthetic meter photos only (training/render_windows.py over synth/meters.py); no third-party photo",
        "photos": int(len(X)),
        "epochs": a.epochs,
        "validation_iou_synthetic": round(v, 4),
        **({"heldout_iou_synthetic": round(v_extra, 4), "heldout": a.val} if v_extra is not None else {}),
        "train_seconds_2_cores": round(time.time() - t0),
        "command": "python training/train_detector.py " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    a.out.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    print(json.dumps(card, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
