"""Evaluate the digit classifier on a labelled crop set (``file,value,meter_kind,source`` CSV).

Scoring rule: a crop counts right when the model gives its settled digit; for a rolling crop (value
``NaN``, or a value whose tenths are between 2 and 8 inclusive, e.g. ``4.3``) either neighbour
(``4`` or ``5``) or a "rolling" answer counts too. For ``NaN`` crops the neighbours are unknown, so
any digit answer that is flagged rolling counts, and so does any digit answer (the label cannot tell
which); the report gives how many ``NaN`` crops were flagged rolling and the accuracy without them.
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np


def parse_value(v: str) -> float | None:
    """Label string -> float position on the wheel, or None for NaN/empty."""
    v = (v or "").strip()
    if not v or v.lower() == "nan":
        return None
    x = float(v)
    return None if math.isnan(x) else x


def label_kind(v: str) -> tuple[str, int | None, int | None]:
    """('nan', None, None) | ('settled', digit, None) | ('rolling', low, high)."""
    x = parse_value(v)
    if x is None:
        return "nan", None, None
    k = int(math.floor(x + 1e-9))
    tenths = int(round((x - k) * 10))
    if tenths >= 10:
        k, tenths = k + 1, 0
    if 2 <= tenths <= 8:
        return "rolling", k % 10, (k + 1) % 10
    settled = (k + (1 if tenths >= 9 else 0)) % 10
    return "settled", settled, None


def is_right(v: str, guess) -> bool:
    kind, a, b = label_kind(v)
    if kind == "settled":
        return guess.value == a
    if kind == "rolling":
        return guess.value in (a, b) or (guess.value >= 0 and guess.rolling
                                         and guess.neighbour in (a, b))
    # NaN: neighbours unknown -> any digit answer (rolling or not) counts
    return guess.value >= 0


def read_exclusions(path: Path) -> set[str]:
    """The ``file`` column of a label audit (docs/label-audit/): crops whose label was found wrong by eye."""
    with open(path, newline="") as f:
        return {r["file"] for r in csv.DictReader(f)}


def evaluate_digits(labels_csv: Path, classifier, sources: list[str] | None = None,
                    batch: int = 256, limit: int | None = None, exclude: set[str] | None = None) -> dict:
    """Run ``classifier`` over every crop of ``labels_csv``; returns counts overall and by source.
    Crops whose ``file`` is in ``exclude`` are left out and counted as ``excluded``."""
    labels_csv = Path(labels_csv)
    root = labels_csv.parent
    exclude = exclude or set()
    with open(labels_csv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if sources is None or r.get("source") in sources]
    excluded = sum(r["file"] in exclude for r in rows)
    rows = [r for r in rows if r["file"] not in exclude]
    if limit:
        rows = rows[:limit]
    stats = defaultdict(lambda: defaultdict(int))
    confusions = defaultdict(int)
    missing = 0
    for i in range(0, len(rows), batch):
        chunk = rows[i:i + batch]
        crops, ok_rows = [], []
        for r in chunk:
            im = cv2.imread(str(root / r["file"]), cv2.IMREAD_COLOR)
            if im is None:
                missing += 1
                continue
            crops.append(im)
            ok_rows.append(r)
        if not crops:
            continue
        for r, g in zip(ok_rows, classifier.classify(crops)):
            kind, a, _ = label_kind(r["value"])
            right = is_right(r["value"], g)
            for key in ("all", r.get("source") or "?"):
                s = stats[key]
                s["n"] += 1
                s["right"] += int(right)
                s[f"n_{kind}"] += 1
                s[f"right_{kind}"] += int(right)
                if g.value < 0:
                    s["not_digit"] += 1
                if kind == "nan" and g.rolling:
                    s["nan_flagged_rolling"] += 1
            if not right and kind == "settled":
                confusions[(r.get("source") or "?", a, g.value)] += 1
    out = {"labels": str(labels_csv), "missing": missing, "excluded": excluded, "by_source": {}}
    for key, s in stats.items():
        d = dict(s)
        d["accuracy"] = d["right"] / d["n"] if d["n"] else float("nan")
        n_known = d["n"] - d.get("n_nan", 0)
        r_known = d["right"] - d.get("right_nan", 0)
        d["accuracy_without_nan"] = r_known / n_known if n_known else float("nan")
        if key == "all":
            out["overall"] = d
        else:
            out["by_source"][key] = d
    out["top_confusions"] = [
        {"source": s, "label": a, "guess": g, "count": c}
        for (s, a, g), c in sorted(confusions.items(), key=lambda kv: -kv[1])[:15]]
    return out


def format_report(res: dict) -> str:
    lines = [f"digit classifier on {res.get('labels')}"]

    def row(name, d):
        extra = ""
        if d.get("n_nan"):
            extra = (f"  (NaN crops: {d['n_nan']}, flagged rolling {d.get('nan_flagged_rolling', 0)}; "
                     f"accuracy without NaN {100 * d['accuracy_without_nan']:.2f}%)")
        nr = d.get("n_rolling", 0)
        roll = f"  rolling-labelled {d.get('right_rolling', 0)}/{nr}" if nr else ""
        return (f"  {name:<22} {d['right']:>6}/{d['n']:<6} {100 * d['accuracy']:6.2f}%  "
                f"settled {d.get('right_settled', 0)}/{d.get('n_settled', 0)}{roll}{extra}")

    if "overall" in res:
        lines.append(row("all", res["overall"]))
    for k in sorted(res.get("by_source", {})):
        lines.append(row(k, res["by_source"][k]))
    if res.get("missing"):
        lines.append(f"  unreadable files: {res['missing']}")
    if res.get("excluded"):
        lines.append(f"  left out, their labels found wrong (--exclude): {res['excluded']}")
    if res.get("top_confusions"):
        lines.append("  top confusions (source: label -> guess x count): " + ", ".join(
            f"{c['source']}: {c['label']}->{c['guess']} x{c['count']}" for c in res["top_confusions"][:10]))
    return "\n".join(lines)


if __name__ == "__main__":  # python -m recognizer.digits_eval LABELS.csv [--model M] [--source S ...]
    import argparse

    from .classifier import DigitClassifier

    ap = argparse.ArgumentParser()
    ap.add_argument("labels", type=Path)
    ap.add_argument("--model", default=None)
    ap.add_argument("--source", action="append", default=None)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    print(format_report(evaluate_digits(a.labels, DigitClassifier(a.model, threads=a.threads),
                                        sources=a.source)))
