#!/usr/bin/env python3
"""Distil the line reader into a smaller student: same inputs, same outputs, about half the multiply-adds.

The teacher (``models/reader.onnx``) is run on the very canvases the runtime builds
(``recognizer.reader.LineReader.probabilities``: the strip's canvas, read on its ``canvas_width`` columns), and
the student (``training.train_reader.ReaderNet``, narrower) learns its per-frame distributions: KL divergence
at temperature 1 (the confidences the pipeline scores with) and 2 (the runner-up characters), plus a small
CTC loss on the labelled synthetic strips. Data:

* strips the pipeline really reads on the labelled photos (``training/harvest_strips.py``), exact and with
  small jitters (shift, scale, light, blur; a fifth with ``render_strips.augment_strip``); the photos of one
  fold (a hash of the path, ``recognizer.evaluate.fold_of``) are held back for scoring and never trained on;
* synthetic strips (``training/render_strips.py``), at full width with the teacher's targets and their labels.

Scores on the held-back photos' strips: how often the student's greedy CTC string equals the teacher's
(all strips; strips the teacher is sure of), and the time per strip of both on one onnxruntime thread.
Needs PyTorch (``pip install torch==2.13.0``); the runtime does not.

    .venv/bin/python training/harvest_strips.py ../shared/data/photos/labels.csv --out /work/cache/harvest.npz
    .venv/bin/python training/render_strips.py --n 20000 --seed 3 --jobs 1 --real ../shared/data/digits/labels.csv --out /work/cache/syn_default.npz
    .venv/bin/python training/render_strips.py --n 15000 --seed 4 --jobs 1 --mix lcd --real ../shared/data/digits/labels.csv --out /work/cache/syn_lcd.npz
    /work/trainvenv/bin/python training/distill_reader.py --epochs 4 --max-minutes 28 --out /work/cache/student.onnx
    # then: more of the photo strips, KL at T=1 only, lower lr, from those weights
    /work/trainvenv/bin/python training/distill_reader.py --init /work/cache/student.pt --epochs 2 --photo-repeat 2 \
        --lr 1e-3 --temperatures 1 --max-minutes 14 --out /work/cache/student2.onnx
    # then: the head scaled so the student is as sure as the teacher where both read alike (strings unchanged)
    /work/trainvenv/bin/python training/distill_reader.py --init /work/cache/student2.pt --epochs 0 --calibrate \
        --out /work/cache/student3.onnx

The first run caches the canvases and teacher targets (``--cache``); later runs reuse them.
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from recognizer.evaluate import fold_of  # noqa: E402
from recognizer.reader import (  # noqa: E402
    ALPHABET, DEFAULT_MODEL, INPUT_H, INPUT_W, LineReader, _canvas, canvas_width, decode_ctc, preprocess,
)

N_CLASSES = len(ALPHABET) + 1
LOGP_FLOOR = -30.0  # teacher log-probabilities are stored as float16, floored here
SURE = 0.9  # the teacher is sure of a strip when every character it reads has at least this probability


# --------------------------------------------------------------------------------------------- data
def jitter(strip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A strip as a slightly different crop of the same window: edges moved a little, stretched a little,
    other light, a little blur or noise. Same height as ``strip``."""
    img = np.asarray(strip)
    H, W = img.shape[:2]
    # edges: crop (positive) or pad with the border (negative), left/right by a few % of the width
    lx, rx = (rng.uniform(-0.05, 0.05, 2) * W).astype(int)
    ty, by = rng.integers(-3, 4, 2)
    img = cv2.copyMakeBorder(img, max(0, -ty), max(0, -by), max(0, -lx), max(0, -rx), cv2.BORDER_REPLICATE)
    h, w = img.shape[:2]
    img = img[max(0, ty): h - max(0, by), max(0, lx): w - max(0, rx)]
    if img.shape[0] < 4 or img.shape[1] < 4:
        img = np.asarray(strip)
    sx = rng.uniform(0.9, 1.1)
    img = cv2.resize(img, (max(4, int(round(img.shape[1] * sx * H / img.shape[0]))), H), interpolation=cv2.INTER_LINEAR)
    f = img.astype(np.float32) * rng.uniform(0.75, 1.25) + rng.uniform(-25, 25)
    if rng.random() < 0.3:
        f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.3:
        f = f + rng.normal(0, rng.uniform(1, 6), f.shape)
    return np.clip(f, 0, 255).astype(np.uint8)


def photo_split(files: list[str], photo: np.ndarray, folds: int, fold: int) -> np.ndarray:
    """True for strips of held-back photos (fold ``fold`` of ``folds``, by a hash of the photo's path)."""
    held = np.array([fold_of(f, folds) == fold for f in files], bool)
    return held[photo]


def canvases(strips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The runtime's canvases of strips and the widths it reads them at."""
    cs = [_canvas(s) for s in strips]
    return np.stack([c for c, _, _ in cs]), np.array([canvas_width(nw) for _, _, nw in cs], np.int32)


def teacher_logp(session, X: np.ndarray, widths: np.ndarray, bs: int = 128) -> np.ndarray:
    """Teacher log-probabilities (N, INPUT_W // 4, C) of canvases read at ``widths`` columns, exactly as
    ``LineReader.probabilities`` does (normalised over the whole canvas, then cut); frames past a canvas's
    width are left at 0 (and never used)."""
    name = session.get_inputs()[0].name
    out = np.zeros((len(X), INPUT_W // 4, N_CLASSES), np.float16)
    for w in sorted(set(widths.tolist())):
        idx = np.flatnonzero(widths == w)
        for i in range(0, len(idx), bs):
            j = idx[i:i + bs]
            z = session.run(None, {name: np.ascontiguousarray(preprocess(X[j])[..., :w])})[0].astype(np.float64)
            z = z - z.max(-1, keepdims=True)
            lp = z - np.log(np.exp(z).sum(-1, keepdims=True))
            out[j, : w // 4] = np.maximum(lp, LOGP_FLOOR)
    return out


def min_char_prob(line) -> float:
    return min((c.confidence for c in line.chars), default=0.0)


def agreement(teacher_lines, student_lines, sure: float = SURE) -> dict:
    """Share of strips read to the same greedy string; the same among strips the teacher is sure of
    (it reads at least one character, each with probability > ``sure``)."""
    same = np.array([t.text == s.text for t, s in zip(teacher_lines, student_lines)], bool)
    sure_m = np.array([bool(t.chars) and min_char_prob(t) > sure for t in teacher_lines], bool)
    return {
        "strips": int(len(same)), "same_text": float(same.mean()) if len(same) else 0.0,
        "sure_strips": int(sure_m.sum()), "same_text_sure": float(same[sure_m].mean()) if sure_m.any() else 0.0,
    }


def macs_per_column(channels, hidden) -> int:
    """Multiply-adds of ReaderNet per canvas column (32 rows; convolutions, LSTM and head)."""
    c0, c1, c2, c3 = channels
    conv = (16 * 0.5 * c0 * 3 * 9          # 3x3 stride 2: 16 rows, half a column
            + 16 * 0.5 * c1 * c0 * 9      # 16 x half
            + 8 * 0.25 * c2 * c1 * 9      # after the 2x2 pool
            + 4 * 0.25 * c3 * c2 * 9
            + 0.25 * c3 * c3 * 2)         # the (2, 1) convolution to one row
    lstm = 0.25 * 2 * 4 * hidden * (c3 + hidden)
    head = 0.25 * 2 * hidden * N_CLASSES
    return int(conv + lstm + head)


# --------------------------------------------------------------------------------------------- training
def distill_loss(student_logits, teacher_lp, temperatures=(1.0, 2.0)):
    """Mean over frames of KL(teacher || student), each temperature's term scaled by T^2."""
    import torch.nn.functional as F

    total = 0.0
    for T in temperatures:
        ls = F.log_softmax(student_logits / T, -1)
        lt = F.log_softmax(teacher_lp / T, -1)
        total = total + (lt.exp() * (lt - ls)).sum(-1).mean() * T * T
    return total / len(temperatures)


def confidence_scale(session, teacher_lines, strips, scales=np.arange(1.0, 3.01, 0.1)) -> float:
    """The factor on the student's logits (its head) that makes its reading confidences, on strips where it reads
    what the teacher reads, as high on average (log of the product of character confidences) as the teacher's.
    Greedy CTC strings do not change with it: only how sure the student says it is."""
    cs = [_canvas(s) for s in strips]
    x = preprocess(np.stack([c for c, _, _ in cs]))
    widths = [canvas_width(nw) for _, _, nw in cs]
    name = session.get_inputs()[0].name
    logits = [session.run(None, {name: np.ascontiguousarray(x[i:i + 1, ..., :w])})[0][0].astype(np.float64)
              for i, w in enumerate(widths)]

    def lines(k):
        out = []
        for z, (_, sx, _), w in zip(logits, cs, widths):
            p = np.exp(k * z - (k * z).max(-1, keepdims=True))
            out.append(decode_ctc(p / p.sum(-1, keepdims=True), sx, w))
        return out

    base = lines(1.0)
    keep = [i for i, (t, s) in enumerate(zip(teacher_lines, base)) if t.text == s.text and t.chars]
    target = np.mean([sum(np.log(max(c.confidence, 1e-6)) for c in teacher_lines[i].chars) for i in keep])
    best, gap = 1.0, np.inf
    for k in scales:
        ls = lines(float(k))
        v = np.mean([sum(np.log(max(c.confidence, 1e-6)) for c in ls[i].chars) for i in keep])
        if abs(v - target) < gap:
            best, gap = float(k), abs(v - target)
    return best


def time_per_strip(path: Path, X: np.ndarray, widths: np.ndarray, n: int = 300) -> float:
    """Median seconds of one strip (batch of one, its runtime width) on one onnxruntime thread."""
    from recognizer.onnx import cpu_session

    sess = cpu_session(path, 1)
    name = sess.get_inputs()[0].name
    xs = [np.ascontiguousarray(preprocess(X[i:i + 1])[..., : widths[i]]) for i in range(min(n, len(X)))]
    for x in xs[:20]:
        sess.run(None, {name: x})
    ts = []
    for x in xs:
        t = time.perf_counter()
        sess.run(None, {name: x})
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--harvest", type=Path, default=Path("/work/cache/harvest.npz"))
    ap.add_argument("--synthetic", default="/work/cache/syn_default.npz,/work/cache/syn_lcd.npz",
                    help="render_strips.py outputs, comma-separated")
    ap.add_argument("--teacher", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fold", type=int, default=0, help="the photos of this fold are held back")
    ap.add_argument("--copies", type=int, default=5, help="jittered copies of each training photo strip")
    ap.add_argument("--channels", default="16,32,64,96")
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--bs", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--temperatures", default="1,2", help="KL temperatures, comma-separated")
    ap.add_argument("--photo-repeat", type=int, default=1, help="photo canvases are drawn this many times per epoch")
    ap.add_argument("--init", type=Path, default=None, help="start from these student weights (a .pt this script saved)")
    ap.add_argument("--calibrate", action="store_true",
                    help="scale the student's head so its confidences on training photo strips match the teacher's")
    ap.add_argument("--ctc-weight", type=float, default=0.2)
    ap.add_argument("--max-minutes", type=float, default=30.0, help="training time cap")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, default=Path("/work/cache/distill_data.npz"), help="canvases and teacher targets")
    ap.add_argument("--out", type=Path, default=Path("/work/cache/student.onnx"))
    a = ap.parse_args(argv)

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from training.harvest_strips import PIPELINE, load
    from training.render_strips import augment_strip
    from training.train_reader import ReaderNet, encode, export_onnx

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    t_start = time.time()
    teacher = LineReader(a.teacher, threads=1)

    h = load(a.harvest)
    held = photo_split(h["files"], h["photo"], a.folds, a.fold)
    train_strips = [s for s, m in zip(h["strips"], held) if not m]
    test_strips = [s for s, m in zip(h["strips"], held) if m]
    test_tags = h["tag"][held]
    print(f"harvest: {len(h['strips'])} strips, {len(train_strips)} of training photos, {len(test_strips)} held back "
          f"({int(held[np.unique(h['photo'])].sum()) if len(h['photo']) else 0} photos)", flush=True)

    # ---- training set: canvases, runtime widths, teacher targets, labels ("" = none)
    if a.cache.exists():
        d = np.load(a.cache)
        X, W, TL, labels, NP = d["X"], d["W"], d["TL"], d["labels"], int(d["NP"])
        print(f"cached data: {len(X)} canvases", flush=True)
    else:
        t0 = time.time()
        many = []
        for s in train_strips:
            many.append(s)
            for _ in range(a.copies):
                many.append(augment_strip(jitter(s, rng), rng) if rng.random() < 0.2 else jitter(s, rng))
        Xp, Wp = canvases(many)
        Xs, ys = [], []
        for p in filter(None, a.synthetic.split(",")):
            sd = np.load(p)
            Xs.append(sd["X"])
            ys.append(sd["labels"].astype(str))
        Xs = np.concatenate(Xs) if Xs else np.zeros((0, 3, INPUT_H, INPUT_W), np.uint8)
        ys = np.concatenate(ys) if ys else np.zeros(0, str)
        X = np.concatenate([Xp, Xs])
        W = np.concatenate([Wp, np.full(len(Xs), INPUT_W, np.int32)])
        labels = np.concatenate([np.full(len(Xp), "", dtype=ys.dtype if len(ys) else "<U1"), ys]).astype(str)
        print(f"{len(Xp)} photo canvases, {len(Xs)} synthetic; teacher targets...", flush=True)
        TL = teacher_logp(teacher._load(), X, W)
        NP = len(Xp)
        np.savez(a.cache, X=X, W=W, TL=TL, labels=labels, NP=NP)
        print(f"data ready in {time.time() - t0:.0f}s", flush=True)
    # the synthetic strips (after the NP photo canvases) have labels; "" (words, clutter) is a CTC target too
    has_label = np.arange(len(X)) >= NP

    # ---- batches: one canvas width per batch, as the runtime reads it
    def batches():
        out = []
        pool = np.concatenate([np.arange(len(X))] + [np.arange(NP)] * (a.photo_repeat - 1))
        for w in sorted(set(W.tolist())):
            idx = rng.permutation(pool[W[pool] == w])
            out += [idx[i:i + a.bs] for i in range(0, len(idx), a.bs) if len(idx[i:i + a.bs]) >= 8]
        return [out[k] for k in rng.permutation(len(out))]

    channels = tuple(int(v) for v in a.channels.split(","))
    model = ReaderNet(channels, a.hidden)
    if a.init:
        model.load_state_dict(torch.load(a.init))
    temps = tuple(float(t) for t in a.temperatures.split(","))
    params = sum(p.numel() for p in model.parameters())
    n_batches = len(batches())
    steps = a.epochs * n_batches
    print(f"student {channels} hidden {a.hidden}: {params} params, {macs_per_column(channels, a.hidden)} MACs/column "
          f"(teacher {macs_per_column((24, 48, 96, 128), 128)}); {len(X)} canvases, {steps} steps", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=max(1, steps), pct_start=0.1)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    t0 = time.time()
    step = 0
    stopped = False
    ep = -1
    model.train()
    for ep in range(a.epochs):
        run = [0.0, 0.0]
        for idx in batches():
            idx = np.sort(idx)
            w = int(W[idx[0]])
            x = torch.from_numpy(np.ascontiguousarray(preprocess(X[idx])[..., :w]))
            tl = torch.from_numpy(TL[idx, : w // 4].astype(np.float32))
            z = model(x)
            loss = distill_loss(z, tl, temps)
            run[0] += float(loss.detach())
            lab = [i for i, k in enumerate(idx) if has_label[k]]
            if a.ctc_weight > 0 and lab:
                tg = [encode(labels[idx[i]]) for i in lab]
                logp = F.log_softmax(z[lab], -1).permute(1, 0, 2)
                lc = ctc(logp, torch.tensor([t for tt in tg for t in tt]), torch.full((len(lab),), logp.shape[0], dtype=torch.long),
                         torch.tensor([len(t) for t in tg]))
                loss = loss + a.ctc_weight * lc
                run[1] += float(lc.detach())
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            if step < steps - 1:
                sched.step()
            step += 1
            if step % 200 == 0:
                print(f"ep {ep} step {step}/{steps} kl {run[0] / 200:.4f} ctc {run[1] / 200:.4f} {time.time() - t0:.0f}s", flush=True)
                run = [0.0, 0.0]
            if time.time() - t0 > a.max_minutes * 60:
                stopped = True
                break
        export_onnx(model, a.out)
        torch.save(model.state_dict(), a.out.with_suffix(".pt"))
        print(f"epoch {ep} done {time.time() - t0:.0f}s -> {a.out}", flush=True)
        if stopped:
            break
    train_seconds = time.time() - t0
    scale = 1.0
    if a.calibrate:
        # on the training photos' own strips as the pipeline read them (never the held-back ones)
        cal = [s for s, m, g in zip(h["strips"], held, h["tag"]) if not m and g == PIPELINE]
        cal = [cal[i] for i in np.sort(rng.permutation(len(cal))[:1500])]
        export_onnx(model, a.out)
        from recognizer.onnx import cpu_session

        scale = confidence_scale(cpu_session(a.out, 1), teacher.read(cal), cal)
        with torch.no_grad():
            model.head.weight.mul_(scale)
            model.head.bias.mul_(scale)
        print(f"confidence scale {scale:.2f} (fitted on {len(cal)} training photo strips)", flush=True)
    export_onnx(model, a.out)
    torch.save(model.state_dict(), a.out.with_suffix(".pt"))

    # ---- scores on the held-back photos' strips, through the runtime's own reader
    student = LineReader(a.out, threads=1)
    t_lines = teacher.read(test_strips)
    s_lines = student.read(test_strips)
    agree = {"all": agreement(t_lines, s_lines),
             "pipeline_reads": agreement([t for t, g in zip(t_lines, test_tags) if g == PIPELINE],
                                         [s for s, g in zip(s_lines, test_tags) if g == PIPELINE]),
             "extra_looks": agreement([t for t, g in zip(t_lines, test_tags) if g != PIPELINE],
                                      [s for s, g in zip(s_lines, test_tags) if g != PIPELINE])}
    Xt, Wt = canvases(test_strips)
    order = rng.permutation(len(Xt))[:300]
    t_teacher = time_per_strip(a.teacher, Xt[order], Wt[order])
    t_student = time_per_strip(a.out, Xt[order], Wt[order])
    speed = {"strips": int(len(order)), "teacher_ms": round(t_teacher * 1000, 3), "student_ms": round(t_student * 1000, 3),
             "speedup": round(t_teacher / t_student, 2)}
    print(json.dumps({"agreement_held_back": agree, "time_per_strip_1_thread": speed}, indent=1), flush=True)
    from recognizer.reader import sha256_file

    card = {
        "name": "meterread line reader, distilled student (CRNN + CTC)",
        "file": a.out.name, "sha256": sha256_file(a.out), "size_bytes": a.out.stat().st_size,
        "alphabet": ALPHABET, "classes": ["<blank>"] + list(ALPHABET),
        "input": {"name": "input", "shape": ["N", 3, INPUT_H, "width"], "dtype": "float32", "layout": "NCHW",
                  "function": "recognizer.reader (to_canvas/_canvas, preprocess, canvas_width): as the teacher"},
        "output": "logits (N, width/4, 12): per frame (4 canvas columns), CTC blank then '0'-'9', '.'",
        "architecture": {"class": "training.train_reader.ReaderNet", "channels": list(channels), "hidden": a.hidden,
                         "params": params, "macs_per_column": macs_per_column(channels, a.hidden),
                         "teacher_macs_per_column": macs_per_column((24, 48, 96, 128), 128)},
        "training": {
            "method": f"distillation from the teacher: per-frame KL at T={a.temperatures} (T^2-scaled) on the runtime's canvases "
                      f"at their runtime widths, plus {a.ctc_weight} x CTC on labelled synthetic strips; Adam, one-cycle lr {a.lr}, "
                      f"batch {a.bs}, one canvas width per batch",
            "teacher": str(a.teacher), "teacher_sha256": sha256_file(a.teacher),
            "data": {"harvest": str(a.harvest), "photo_strips_train": len(train_strips), "copies_each": a.copies,
                     "photo_canvases": NP, "synthetic": a.synthetic, "canvases": int(len(X)),
                     "held_back": f"photos with fold_of(file, {a.folds}) == {a.fold}: {len(test_strips)} strips"},
            "init": str(a.init) if a.init else None, "photo_repeat": a.photo_repeat, "epochs_run": ep + 1, "confidence_scale": scale, "steps": step, "train_seconds_1_thread": round(train_seconds),
            "total_seconds": round(time.time() - t_start),
            "command": "python training/distill_reader.py " + " ".join(sys.argv[1:] if argv is None else argv),
        },
        "agreement_held_back": agree, "time_per_strip_1_thread": speed,
    }
    a.out.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    print(f"card -> {a.out.with_suffix('.json')}", flush=True)


if __name__ == "__main__":
    main()
