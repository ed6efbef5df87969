"""Train the line reader (``models/reader.onnx``): a CRNN with CTC on digit-window strips.

Data: ``training/render_strips.py`` output (synthetic LCDs and drum counters, and strips composed of real
digit crops of the sources given there). Validation: strips rendered with another seed, scored as whole
readings (every character right). Needs PyTorch (``pip install torch==2.13.0``); the runtime does not.

    python training/render_strips.py --n 120000 --seed 1 --real ../shared/data/digits/labels.csv --out /work/cache/strips.npz
    python training/render_strips.py --n 3000 --seed 99 --real ../shared/data/digits/labels.csv --out /work/cache/strips_val.npz
    python training/train_reader.py --data /work/cache/strips.npz --val /work/cache/strips_val.npz --epochs 6
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from recognizer.reader import ALPHABET, INPUT_H, INPUT_W, decode_ctc, preprocess, sha256_file  # noqa: E402

N_CLASSES = len(ALPHABET) + 1  # CTC blank first
SYNTHETIC_NOTE = (
    "training/render_strips.py: synthetic seven-segment LCDs and drum counters (fonts on the machine, red "
    "fractional drums, rolling drums), plus strips composed of real digit crops (haverland, jomjol from "
    "../shared/data/digits; not shipped). fuel-lcd-binarised crops and all photos are NOT used."
)


class ReaderNet(nn.Module):
    """Convolutions down to one row of 64 frames (4 canvas columns each), a BiLSTM, a linear head."""

    def __init__(self, c=(16, 32, 64, 96), hidden=96):
        super().__init__()

        def block(i, o, stride=1):
            return [nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(3, c[0], 2),  # 16 x 128
            *block(c[0], c[1]), nn.MaxPool2d(2),  # 8 x 64
            *block(c[1], c[2]), nn.MaxPool2d((2, 1)),  # 4 x 64
            *block(c[2], c[3]), nn.MaxPool2d((2, 1)),  # 2 x 64
            nn.Conv2d(c[3], c[3], (2, 1), bias=False), nn.BatchNorm2d(c[3]), nn.ReLU(inplace=True),  # 1 x 64
        )
        self.rnn = nn.LSTM(c[3], hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, N_CLASSES)

    def forward(self, x):
        f = self.features(x).squeeze(2).permute(0, 2, 1)  # N, T, C
        f, _ = self.rnn(f)
        return self.head(f)


def encode(label: str) -> list[int]:
    return [ALPHABET.index(ch) + 1 for ch in label]


def batch_tensors(X, labels, idx, rng=None):
    xb = X[idx]
    if rng is not None:
        # small horizontal shifts: where the window's crop begins varies in the pipeline
        shift = int(rng.integers(0, 9))
        if shift:
            xb = np.concatenate([np.repeat(xb[..., :1], shift, axis=-1), xb[..., :-shift]], axis=-1)
    x = torch.from_numpy(preprocess(xb))
    targets = [encode(str(labels[i])) for i in idx]
    flat = torch.tensor([t for tt in targets for t in tt], dtype=torch.long)
    lens = torch.tensor([len(t) for t in targets], dtype=torch.long)
    return x, flat, lens


def load_part(spec: str) -> tuple[np.ndarray, np.ndarray]:
    """``file.npz``, ``file.npz@N`` (its first N strips) or ``file.npz*K`` (repeated K times), or both."""
    spec, _, repeat = spec.partition("*")
    path, _, take = spec.partition("@")
    d = np.load(path, mmap_mode="r")
    n = int(take) if take else len(d["labels"])
    X, y = np.asarray(d["X"][:n]), np.asarray(d["labels"][:n])
    k = int(repeat) if repeat else 1
    return (np.concatenate([X] * k), np.concatenate([y] * k)) if k > 1 else (X, y)


def train_mode(model: nn.Module, freeze_bn: bool) -> None:
    """Training mode; with ``freeze_bn`` the BatchNorms keep their running statistics (a network recovered
    from ONNX by onnx_to_torch.py carries the folded statistics there, which batch statistics would undo)."""
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def evaluate(model, X, labels, bs=256) -> dict:
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(X), bs):
            x = torch.from_numpy(preprocess(X[i:i + bs]))
            probs = F.softmax(model(x), -1).numpy()
            for p, lab in zip(probs, labels[i:i + bs]):
                right += decode_ctc(p, 1.0).text == str(lab)
    model.train()
    return {"n": int(len(X)), "reading_accuracy": right / max(1, len(X))}


def export_onnx(model, path: Path):
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, INPUT_H, INPUT_W)
    torch.onnx.export(model, dummy, str(path), input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "frames"}}, opset_version=17,
                      dynamo=False)
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(0, 1, (3, 3, INPUT_H, INPUT_W)).astype(np.float32)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    assert np.allclose(ref, sess.run(None, {"input": x})[0], atol=1e-3), "onnx export mismatch"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/work/cache/strips.npz", help="one or more .npz, comma-separated; name.npz@N takes the first N, name.npz*K repeats it K times")
    ap.add_argument("--val", default="/work/cache/strips_val.npz")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=60.0)
    ap.add_argument("--channels", default="16,32,64,96", help="convolution widths of the four stages")
    ap.add_argument("--hidden", type=int, default=96, help="LSTM width per direction")
    ap.add_argument("--init", type=Path, default=None, help="start from these weights (a .pt this script saved)")
    ap.add_argument("--freeze-bn", action="store_true", help="keep BatchNorm statistics (fine-tuning a network recovered from ONNX)")
    ap.add_argument("--data-note", default=SYNTHETIC_NOTE, help="what the strips are, for the model card")
    ap.add_argument("--out", type=Path, default=Path("models/reader.onnx"))
    ap.add_argument("--card", type=Path, default=Path("models/reader.json"))
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    parts = [load_part(p) for p in a.data.split(",")]
    X = np.concatenate([x for x, _ in parts])
    labels = np.concatenate([y for _, y in parts])
    v = np.load(a.val)
    Xv, labels_v = v["X"], v["labels"]
    model = ReaderNet(tuple(int(v) for v in a.channels.split(",")), a.hidden)
    if a.init:
        model.load_state_dict(torch.load(a.init))
    params = sum(p.numel() for p in model.parameters())
    print(f"{len(X)} strips, {params} parameters", flush=True)
    steps = a.epochs * (len(X) // a.bs)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.15)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    t0 = time.time()
    step = 0
    train_mode(model, a.freeze_bn)
    done = False
    for ep in range(a.epochs):
        order = rng.permutation(len(X))
        run = 0.0
        for b in range(len(X) // a.bs):
            idx = np.sort(order[b * a.bs:(b + 1) * a.bs])
            x, flat, lens = batch_tensors(X, labels, idx, rng)
            logp = F.log_softmax(model(x), -1).permute(1, 0, 2)  # T, N, C
            loss = ctc(logp, flat, torch.full((len(idx),), logp.shape[0], dtype=torch.long), lens)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            step += 1
            run += float(loss)
            if step % 200 == 0:
                print(f"ep {ep} step {step}/{steps} loss {run / 200:.4f} {time.time() - t0:.0f}s", flush=True)
                run = 0.0
            if time.time() - t0 > a.max_minutes * 60:
                done = True
                break
        print(f"epoch {ep}: val {evaluate(model, Xv[:1000], labels_v[:1000])}", flush=True)
        train_mode(model, a.freeze_bn)
        export_onnx(model, a.out)
        torch.save(model.state_dict(), a.out.with_suffix(".pt"))
        if done:
            break
    val = evaluate(model, Xv, labels_v)
    export_onnx(model, a.out)
    torch.save(model.state_dict(), a.out.with_suffix(".pt"))
    card = {
        "name": "meterread line reader (CRNN + CTC)",
        "file": a.out.name,
        "sha256": sha256_file(a.out),
        "size_bytes": a.out.stat().st_size,
        "alphabet": ALPHABET,
        "classes": ["<blank>"] + list(ALPHABET),
        "input": {"name": "input", "shape": ["N", 3, INPUT_H, INPUT_W], "dtype": "float32",
                  "layout": "NCHW", "function": "recognizer.reader.to_canvas + recognizer.reader.preprocess",
                  "preprocessing": ["BGR strip resized to height 32 keeping aspect, left-aligned on a 256-wide canvas "
                                    "padded with the strip's mean colour (squeezed when wider)",
                                    "float32 (x - mean) / max(std, 8) over the canvas, clipped to [-4, 4]"]},
        "output": "logits (N, 64, 12): per frame (4 canvas columns), CTC blank then '0'-'9', '.'",
        "training": {
            "data": a.data_note,
            "strips": int(len(X)), "epochs": a.epochs, "channels": a.channels, "hidden": a.hidden, "batch": a.bs, "lr": a.lr, "params": params,
            "train_seconds_2_cores": round(time.time() - t0),
            "command": "python training/train_reader.py " + " ".join(sys.argv[1:]),
            "init": str(a.init) if a.init else None,
        },
        "validation_synthetic_strips": val,
    }
    a.card.write_text(json.dumps(card, indent=1) + "\n")
    print(json.dumps(card["validation_synthetic_strips"]), flush=True)


if __name__ == "__main__":
    main()
