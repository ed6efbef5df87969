"""Train the digit classifier (small CNN, 11 classes: wheel positions 0-9 with soft labels + "not a digit")
on real crops (/work/shared/data/digits) and synthetic crops (training/render_digits.py), export ONNX.

Needs the training venv (torch==2.13.0 CPU):

    python3 -m venv /work/trainvenv
    /work/trainvenv/bin/pip install torch==2.13.0 numpy opencv-python-headless onnx onnxruntime pillow
    /work/trainvenv/bin/python training/render_digits.py --n 48000 --seed 0 --out /work/cache/synth.npz
    # cross-source evaluation: hold out whole sources
    /work/trainvenv/bin/python training/train_digits.py --holdout jomjol --holdout fuel-lcd-binarised \
        --out /work/cache/ho_jf.onnx
    # the shipped model: all sources + synthetic
    /work/trainvenv/bin/python training/train_digits.py --out models/digits.onnx --card models/digits.json

Soft labels: a haverland crop labelled 4.3 -> 0.7 on class 4, 0.3 on class 5 (9.5 -> 0.5 on 9, 0.5 on 0).
jomjol ``NaN`` crops (a digit between two unknown values) are excluded from training.
Sampling is balanced over (source, settled digit) buckets; each epoch draws half real, half synthetic.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "training"))

from recognizer.classifier import INPUT_H, INPUT_W, preprocess, sha256_file  # noqa: E402
from render_digits import CANVAS_H, CANVAS_W, N_CLASSES, soft_target, to_canvas  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEFAULT_LABELS = Path("/work/shared/data/digits/labels.csv")
CACHE = Path(os.environ.get("DIGITS_CACHE", "/work/cache"))


# ------------------------------------------------------------------------------------------- data
def load_real(labels: Path) -> dict:
    """Real crops on the training canvas, cached as npz (not in the repo)."""
    cache = CACHE / "real_canvas.npz"
    if cache.is_file() and cache.stat().st_mtime > labels.stat().st_mtime:
        z = np.load(cache, allow_pickle=False)
        return {k: z[k] for k in z.files}
    rows = list(csv.DictReader(open(labels, newline="")))
    X = np.zeros((len(rows), CANVAS_H, CANVAS_W), np.uint8)
    keep = np.zeros(len(rows), bool)
    for i, r in enumerate(rows):
        im = cv2.imread(str(labels.parent / r["file"]), cv2.IMREAD_COLOR)
        if im is None:
            continue
        X[i] = to_canvas(im)
        keep[i] = True
    d = {"X": X[keep], "value": np.array([r["value"] for r in rows])[keep],
         "source": np.array([r["source"] for r in rows])[keep],
         "files": np.array([r["file"] for r in rows])[keep]}
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **d)
    return d


def real_targets(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(targets (N, 11), usable mask): NaN labels are not usable for training."""
    Y = np.zeros((len(values), N_CLASSES), np.float32)
    ok = np.zeros(len(values), bool)
    for i, v in enumerate(values):
        try:
            x = float(v)
        except ValueError:
            continue
        if math.isnan(x):
            continue
        Y[i] = soft_target(x)
        ok[i] = True
    return Y, ok


# ------------------------------------------------------------------------------------ augmentation
def augment_canvas(g: np.ndarray, rng: np.random.Generator, vertical_shift: float) -> np.ndarray:
    """Online augmentation of one gray canvas crop, then the runtime preprocessing."""
    h, w = g.shape
    ang = rng.uniform(-5, 5) if rng.random() < 0.6 else 0.0
    sx = rng.uniform(0.82, 1.15)
    sy = sx * rng.uniform(0.9, 1.1)
    tx = rng.uniform(-0.08, 0.08) * w
    ty = rng.uniform(-vertical_shift, vertical_shift) * h
    a = math.radians(ang)
    c, s = math.cos(a), math.sin(a)
    M = np.array([[sx * c, -sy * s, 0], [sx * s, sy * c, 0]], np.float32)
    M[:, 2] = np.array([w / 2, h / 2]) - M[:, :2] @ np.array([w / 2, h / 2]) + np.array([tx, ty])
    border = cv2.BORDER_REPLICATE if rng.random() < 0.7 else cv2.BORDER_REFLECT
    out = cv2.warpAffine(g, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=border).astype(np.float32)
    if rng.random() < 0.25:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.5))
    if rng.random() < 0.3:
        out = 255 * (np.clip(out, 0, 255) / 255) ** rng.uniform(0.5, 1.8)
    if rng.random() < 0.4:
        out = out + rng.normal(0, rng.uniform(2, 15), out.shape)
    if rng.random() < 0.15:  # low contrast
        out = out.mean() + (out - out.mean()) * rng.uniform(0.15, 0.5)
    if rng.random() < 0.1:  # binarise (thresholded crops)
        out = np.where(out > np.median(out) + rng.uniform(-20, 20), 255.0, 0.0)
    # resolution drop: tiny crops in photos
    if rng.random() < 0.3:
        f = rng.uniform(0.3, 0.7)
        small = cv2.resize(np.clip(out, 0, 255), (max(6, int(w * f)), max(8, int(h * f))),
                           interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = 255 - out  # both polarities
    return preprocess(out)


def make_batch(X, idx, rng, vshift):
    return np.stack([augment_canvas(X[i], rng, vshift[i]) for i in idx])[:, None]


def plain_batch(X, idx):
    return np.stack([preprocess(X[i]) for i in idx])[:, None]


# ------------------------------------------------------------------------------------------ model
class DigitNet(nn.Module):
    def __init__(self, n_classes: int = N_CLASSES, c1: int = 32, c2: int = 64, c3: int = 128,
                 fc: int = 128):
        super().__init__()

        def block(i, o):
            return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(1, c1), *block(c1, c1), nn.MaxPool2d(2),  # 16x12
            *block(c1, c2), *block(c2, c2), nn.MaxPool2d(2),  # 8x6
            *block(c2, c3), *block(c3, c3), nn.MaxPool2d(2),  # 4x3
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3),
                                  nn.Linear(c3 * (INPUT_H // 8) * (INPUT_W // 8), fc),
                                  nn.ReLU(inplace=True), nn.Dropout(0.3), nn.Linear(fc, n_classes))

    def forward(self, x):
        return self.head(self.features(x))


# ----------------------------------------------------------------------------------------- scoring
def score(values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per-crop correctness under the project's scoring rule (same as recognizer.digits_eval)."""
    from recognizer.classifier import guess_from_probs
    from recognizer.digits_eval import is_right

    return np.array([is_right(v, guess_from_probs(p)) for v, p in zip(values, probs)])


def predict(model, X, bs=512):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), bs):
            xb = torch.from_numpy(plain_batch(X, range(i, min(i + bs, len(X)))))
            out.append(F.softmax(model(xb), 1).numpy())
    return np.concatenate(out) if out else np.zeros((0, N_CLASSES), np.float32)


# ------------------------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description="train the digit classifier")
    ap.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    ap.add_argument("--synth", type=Path, default=CACHE / "synth.npz")
    ap.add_argument("--holdout", action="append", default=[], help="source to hold out (repeatable)")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--per-epoch", type=int, default=40000, help="samples drawn per epoch")
    ap.add_argument("--synth-frac", type=float, default=0.45)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, required=True, help="ONNX output path")
    ap.add_argument("--card", type=Path, default=None, help="model card JSON to write")
    ap.add_argument("--val-frac", type=float, default=0.05, help="in-source validation split")
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()

    real = load_real(a.labels)
    Yr, usable = real_targets(real["value"])
    src = real["source"]
    held = np.isin(src, a.holdout)
    # in-source validation split (by hash of the file name, stable)
    hv = np.array([hash_frac(f) for f in real["files"]])
    val = (~held) & (hv < a.val_frac)
    train = (~held) & (~val) & usable
    print(f"real: {len(src)} crops, train {train.sum()}, val {val.sum()}, held out {held.sum()} "
          f"({', '.join(a.holdout) or '-'}) [{time.time() - t0:.0f}s]", flush=True)

    z = np.load(a.synth)
    Xs, Ys = z["X"], z["Y"]
    print(f"synthetic: {len(Xs)} crops ({(Ys[:, 10] > 0.5).sum()} non-digit)", flush=True)

    Xtr_real, Ytr_real = real["X"][train], Yr[train]
    # balance over (source, settled class) buckets
    settled = np.argmax(Ytr_real[:, :10] + 1e-3 * np.arange(10)[::-1], 1)
    bucket = np.array([f"{s}:{c}" for s, c in zip(src[train], settled)])
    ub, inv, cnt = np.unique(bucket, return_inverse=True, return_counts=True)
    n_src = len(np.unique(src[train]))
    # sources weighted equally, except haverland (largest, most varied) counts double
    src_w = {s: (2.0 if s == "haverland" else 1.0) for s in np.unique(src[train])}
    bw = np.array([src_w[b.split(":")[0]] for b in ub]) / cnt
    p_real = bw[inv]
    p_real = p_real / p_real.sum()
    print(f"buckets: {len(ub)} over {n_src} sources", flush=True)

    X_all = np.concatenate([Xtr_real, Xs])
    Y_all = np.concatenate([Ytr_real, Ys]).astype(np.float32)
    n_real = len(Xtr_real)
    # vertical shift allowance: rolling drum labels depend on vertical position, keep it small there
    vshift = np.concatenate([np.full(n_real, 0.04), np.full(len(Xs), 0.08)])

    model = DigitNet()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model params: {n_params}", flush=True)
    steps_per_epoch = a.per_epoch // a.batch
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.epochs * steps_per_epoch,
                                                pct_start=0.15)
    n_syn_b = int(round(a.batch * a.synth_frac))
    for ep in range(a.epochs):
        model.train()
        tl, te = 0.0, time.time()
        for st in range(steps_per_epoch):
            ir = rng.choice(n_real, a.batch - n_syn_b, p=p_real)
            is_ = n_real + rng.integers(0, len(Xs), n_syn_b)
            idx = np.concatenate([ir, is_])
            xb = torch.from_numpy(make_batch(X_all, idx, rng, vshift))
            yb = torch.from_numpy(Y_all[idx])
            # light label smoothing
            yb = yb * 0.97 + 0.03 / N_CLASSES
            loss = -(yb * F.log_softmax(model(xb), 1)).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tl += loss.item()
        msg = f"epoch {ep + 1}/{a.epochs} loss {tl / steps_per_epoch:.4f} ({time.time() - te:.0f}s)"
        if val.any():
            pv = predict(model, real["X"][val])
            ok = score(real["value"][val], pv)
            msg += f" val {100 * ok.mean():.2f}%"
        print(msg, flush=True)

    results = {}
    for s in np.unique(src):
        for name, m in (("val", val & (src == s)), ("heldout", held & (src == s))):
            if m.any():
                ok = score(real["value"][m], predict(model, real["X"][m]))
                results[f"{name}:{s}"] = {"n": int(m.sum()), "accuracy": float(ok.mean())}
                print(f"{name} {s}: {ok.sum()}/{m.sum()} = {100 * ok.mean():.2f}%", flush=True)

    export_onnx(model, a.out)
    train_s = time.time() - t0
    print(f"exported {a.out} ({a.out.stat().st_size} bytes); total {train_s:.0f}s", flush=True)
    info = {"holdout": a.holdout, "results_canvas": results, "params": n_params, "train_seconds": train_s,
            "argv": sys.argv[1:], "n_real_train": int(train.sum()), "n_synth": int(len(Xs))}
    a.out.with_suffix(".train.json").write_text(json.dumps(info, indent=1)) if not a.card else None
    if a.card:
        write_card(a, info)


def hash_frac(name: str) -> float:
    import hashlib

    return int(hashlib.md5(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def export_onnx(model, path: Path):
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 1, INPUT_H, INPUT_W)
    torch.onnx.export(model, dummy, str(path), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    # sanity: onnxruntime gives the same logits
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(0, 1, (4, 1, INPUT_H, INPUT_W)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = sess.run(None, {"input": x})[0]
    assert np.allclose(ref, got, atol=1e-3), "onnx export mismatch"


def write_card(a, info):
    card = {
        "name": "meterread digit classifier",
        "file": a.out.name,
        "sha256": sha256_file(a.out),
        "size_bytes": a.out.stat().st_size,
        "classes": [str(i) for i in range(10)] + ["not_a_digit"],
        "output": "logits (N, 11); softmax -> probabilities. Classes 0-9 are the position on the digit "
                  "wheel (trained with soft labels: 4.3 -> 0.7 on 4, 0.3 on 5); class 10 = not a digit.",
        "input": {
            "name": "input", "shape": ["N", 1, INPUT_H, INPUT_W], "dtype": "float32", "layout": "NCHW",
            "preprocessing": [
                "gray: 2-D input is gray; 3 channels BGR -> cv2.COLOR_BGR2GRAY; 4 channels BGRA -> "
                "cv2.COLOR_BGRA2GRAY; non-uint8 clipped to 0..255 (floats <= 1 scaled by 255)",
                f"resize to {INPUT_W}x{INPUT_H} (width x height) with cv2.INTER_AREA, stretched: no aspect "
                "preservation, no padding",
                "float32; x = (x - mean) / max(std, 8.0) per crop (0..255 units); clip to [-4, 4]",
                "polarity untouched: trained on white-on-black and black-on-white alike",
            ],
            "function": "recognizer.classifier.preprocess",
        },
        "training": {
            "data": {
                "real": "haverland (Apache-2.0), jomjol, fuel-lcd-binarised crops from "
                        "/work/shared/data/digits (not shipped); jomjol NaN crops excluded; "
                        f"{info['n_real_train']} real crops used ({', '.join(info['holdout']) or 'no'} "
                        "held out, 5% in-source validation split by file-name hash)",
                "synthetic": f"{info['n_synth']} crops from training/render_digits.py (drum digits in "
                             "system fonts + Hershey, rolling drums, seven-segment LCD, non-digits)",
            },
            "soft_labels": "value k+f -> (1-f) on k, f on (k+1) mod 10; label smoothing 0.03",
            "balancing": "real crops sampled uniformly over (source, settled digit) buckets, haverland "
                         "x2 weight; each batch 55% real, 45% synthetic",
            "augmentation": "render-time: crop offsets/padding, scale, rotation +-5, blur, noise, glare, "
                            "brightness/contrast/colour, JPEG; online: affine jitter, blur, gamma, noise, "
                            "low contrast, binarisation, resolution drop, inversion (50%)",
            "params": info["params"],
            "train_seconds_2_cores": round(info["train_seconds"]),
            "command": ["/work/trainvenv/bin/python training/render_digits.py --n 48000 --seed 0 "
                        "--out /work/cache/synth.npz",
                        "/work/trainvenv/bin/python training/train_digits.py " + " ".join(info["argv"])],
        },
        "results_in_training_script": info["results_canvas"],
    }
    if a.card.is_file():  # keep held-out figures written by hand/other runs
        old = json.loads(a.card.read_text())
        for k in ("heldout_evaluation", "evaluation"):
            if k in old:
                card[k] = old[k]
    a.card.write_text(json.dumps(card, indent=1) + "\n")
    print(f"card written: {a.card}", flush=True)


if __name__ == "__main__":
    main()
