"""Real training strips from labelled whole photos: the pipeline's own window crops, with targets the label confirms.

The photo labels give the reading (for the fuel pump only its integer part), not the text of every crop the
locator proposes. So every proposal of a photo is read with the current reader, and a crop becomes a training
strip only when the label confirms what it shows (a self-training step checked against the label):

- the read's integer part equals the label's (the fraction digits are the reader's, the point confirmed);
- the read rounds to the label (fuel-pump labels are the displayed value rounded about a third of the time);
- the read has no point but starts with the label's integer digits and has one to three digits more, on an
  LCD: the faint decimal point was missed, the target puts it back;
- the read lost a leading thin ``1`` or added one at the window's edge: the target has the label's digits.

Everything else (another row, misreads the label does not explain) is left out. Each kept crop is written
several times, with its quad jittered outward and the photo degraded as ``render_strips.augment_strip``
does, so the model sees the crop as the locator might produce it on another photo.

Photos are split into folds by a hash of their path: ``--fold K --folds N`` keeps only photos outside fold K,
so a model trained on them can be scored on fold K's photos it never saw
(``meterread eval LABELS --folds N --fold K --reader-model MODEL.onnx``).

    python training/photo_strips.py ../shared/data/photos/labels.csv --folds 2 --fold 0 --out /work/cache/photo_f0.npz
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pipeline.decode import decode  # noqa: E402
from pipeline.deskew import deskew, expand_quad  # noqa: E402
from pipeline.locate import LocateConfig, propose_windows  # noqa: E402
from pipeline.types import Window  # noqa: E402
from recognizer.config import RecognizerConfig  # noqa: E402
from recognizer.evaluate import fold_of  # noqa: E402
from recognizer.read import STRIP_HEIGHT, strips_for  # noqa: E402
from recognizer.reader import LineReader, to_canvas  # noqa: E402

LCD_KINDS = ("lcd", "electricity_lcd")


def target_for(text: str, label: str, lcd: bool) -> str | None:
    """The text a crop read as ``text`` shows, given the photo's label, or None when the label does not confirm it."""
    lab_int, _, lab_frac = label.partition(".")
    if not text or not lab_int.isdigit():
        return None
    t_int, dot, t_frac = text.partition(".")
    if t_frac.count(".") or not t_int.isdigit() or (dot and not t_frac.isdigit()):
        return None
    tail = dot + t_frac
    if t_int == lab_int:
        if not dot and lab_frac and t_frac == "":
            return text  # drums without the fraction (dials, red drums outside the crop): what the crop shows
        return text
    if not dot and lab_frac and text == lab_int + lab_frac:
        return text  # red fractional drums: the reader emits no point for them
    if dot and t_frac and len(t_int) == len(lab_int) and int(t_int) + 1 == int(lab_int) and t_frac[0] >= "5":
        return text  # the label is the displayed value rounded
    if not dot and lcd and text.startswith(lab_int) and 1 <= len(text) - len(lab_int) <= 3:
        return lab_int + "." + text[len(lab_int):]  # a faint decimal point the reader missed
    if lcd and t_int and "1" + t_int == lab_int:
        return lab_int + tail  # a thin leading 1 lost
    if lcd and t_int == "1" + lab_int:
        return lab_int + tail  # the window's edge read as a 1
    return None


def _fraction_sure(line, target: str, floor: float = 0.8) -> bool:
    """The label says nothing of the fraction digits: keep a crop only where the reader was sure of them."""
    if "." not in target:
        return True
    n = len(target.partition(".")[2])
    digits = line.digits
    return len(digits) >= n and min(c.confidence for c in digits[-n:]) >= floor


def jittered(w: Window, rng: np.random.Generator) -> Window:
    """The proposal's quad grown by the pipeline's margins and a bit more, edges moved independently."""
    rect = w.source.startswith("rect")
    grow = 0.35 if rect else 1.0
    vgrow = 0.06 if rect else 0.2
    left, right = grow + rng.uniform(-0.1, 0.6, 2) * (0.3 if rect else 1.0)
    top, bottom = vgrow + rng.uniform(-0.04, 0.2, 2)
    return Window(expand_quad(w.quad, left, right, top, bottom), w.kind, w.score, w.source)


def harvest(rows, reader: LineReader, copies: int, rng: np.random.Generator, root: Path, augment) -> tuple[list, list, dict]:
    X, labels = [], []
    stats = {"photos": 0, "photos_used": 0, "strips": 0, "rules": {}}
    for row in rows:
        path = root / row["file"]
        try:
            decoded = decode(path.read_bytes(), RecognizerConfig().decode)
        except Exception:  # noqa: BLE001 - an unreadable photo gives no strips
            continue
        stats["photos"] += 1
        windows = propose_windows(decoded, LocateConfig())
        if not windows:
            continue
        strips = strips_for(decoded, windows)
        lines = reader.read([d.image for d in strips])
        lcd = row.get("meter_kind", "") in LCD_KINDS
        used = False
        seen = set()
        for w, line in zip(windows, lines):
            target = target_for(line.text, row["reading"].split("+")[0], lcd)
            if target is None or not _fraction_sure(line, target):
                continue
            key = (target, tuple(np.round(w.quad.mean(axis=0) / 20).astype(int)))
            if key in seen:  # the same crop proposed twice: once is enough
                continue
            seen.add(key)
            used = True
            rule = "same" if target == line.text else "corrected"
            stats["rules"][rule] = stats["rules"].get(rule, 0) + 1
            for k in range(copies):
                wk = w if k == 0 else jittered(w, rng)
                img = deskew(decoded, wk, STRIP_HEIGHT).image if k else strips_for(decoded, [w])[0].image
                if k and rng.random() < 0.6:
                    img = augment(img, rng)
                X.append(to_canvas(img))
                labels.append(target)
        stats["photos_used"] += used
    stats["strips"] = len(labels)
    return X, labels, stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("labels", type=Path)
    ap.add_argument("--folds", type=int, default=1, help="split photos into this many folds (1: use all)")
    ap.add_argument("--fold", type=int, default=None, help="leave this fold's photos out")
    ap.add_argument("--sources", default=None, help="comma-separated sources to use (default: all labelled)")
    ap.add_argument("--copies", type=int, default=12, help="strips per confirmed crop (the first unaltered)")
    ap.add_argument("--model", type=Path, default=None, help="reader that proposes the texts (default: models/reader.onnx)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    from training.render_strips import augment_strip

    with a.labels.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("reading")]
    if a.sources:
        keep = set(a.sources.split(","))
        rows = [r for r in rows if r["source"] in keep]
    if a.fold is not None:
        rows = [r for r in rows if fold_of(r["file"], a.folds) != a.fold]
    t0 = time.time()
    X, labels, stats = harvest(rows, LineReader(a.model), a.copies, np.random.default_rng(a.seed), a.labels.parent, augment_strip)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(a.out, X=np.stack(X) if X else np.zeros((0, 3, 32, 256), np.uint8), labels=np.array(labels))
    print(f"{stats} in {time.time() - t0:.0f}s -> {a.out}")


if __name__ == "__main__":
    main()
