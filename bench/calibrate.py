#!/usr/bin/env python3
"""Fit the acceptance threshold on data: the lowest confidence whose reads are right often enough.

    meterread eval ../shared/data/photos/labels.csv --out /tmp/eval.jsonl
    python bench/calibrate.py /tmp/eval.jsonl [--target 0.995] [--exclude-source gas-actaris]

Reads an eval output (one JSON object per photo with its ``score``), sweeps the confidence threshold and
prints the curve of accuracy among accepted reads against the share accepted. The fitted threshold is
the lowest one whose accepted reads reach ``--target`` precision, judged by a one-sided Wilson lower
bound so a handful of lucky reads does not set it. Leave-one-source-out: the threshold fitted without
each source, then applied to it, shows how the choice carries to meters the fit did not see.
Only reads that pass every other check (quality, plausibility, digit count) can be accepted, so the
curve is over the reads that ``status`` would accept at threshold 0.
"""
from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict


def wilson_lower(k: int, n: int, z: float = 1.645) -> float:
    if n == 0:
        return 0.0
    p = k / n
    den = 1 + z * z / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - margin) / den


def load(path: str, rounded: bool = False) -> list[dict]:
    rows = []
    for line in open(path):
        r = json.loads(line)
        s = r.get("score") or {}
        if not s.get("labelled"):
            continue
        rows.append({"source": s["source"], "confidence": float(r.get("confidence") or 0.0),
                     "right": bool(s.get("int_or_rounded") if rounded else s.get("int_exact")),
                     "eligible": _eligible(r)})
    return rows


def _eligible(r: dict) -> bool:
    """Would this read be accepted if its confidence were high enough? (Other checks passed.)"""
    if r.get("status") == "accepted":
        return True
    reason = r.get("reason") or ""
    return r.get("status") == "needs_review" and reason.startswith("Not sure of the reading")


def fit(rows: list[dict], target: float) -> float:
    """The lowest threshold whose accepted reads' Wilson lower bound reaches ``target`` (1.01 if none)."""
    cands = sorted({r["confidence"] for r in rows if r["eligible"]})
    for t in cands:
        kept = [r for r in rows if r["eligible"] and r["confidence"] >= t]
        if kept and wilson_lower(sum(r["right"] for r in kept), len(kept)) >= target:
            return t
    return 1.01


def apply(rows: list[dict], t: float) -> tuple[int, int, int]:
    kept = [r for r in rows if r["eligible"] and r["confidence"] >= t]
    return len(kept), sum(r["right"] for r in kept), len(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("eval_jsonl")
    ap.add_argument("--target", type=float, default=0.98, help="lower bound on the precision of accepted reads")
    ap.add_argument("--exclude-source", action="append", default=[])
    ap.add_argument("--rounded", action="store_true",
                    help="count a read right when it rounds to a label with no fraction (the fuel-lcd labels)")
    a = ap.parse_args(argv)
    rows = [r for r in load(a.eval_jsonl, a.rounded) if r["source"] not in a.exclude_source]
    print(f"{len(rows)} labelled reads, {sum(r['eligible'] for r in rows)} eligible for acceptance")
    print("\naccuracy / acceptance curve (integer part right among accepted):")
    print("  threshold  accepted  precision")
    for t in (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99):
        n, k, tot = apply(rows, t)
        print(f"  {t:9.2f}  {n / tot:8.1%}  {(k / n if n else float('nan')):9.1%}  ({k}/{n})")
    t = fit(rows, a.target)
    n, k, tot = apply(rows, t)
    if t > 1.0:
        print(f"\nno threshold reaches a {a.target:.1%} lower bound on these reads: none would be accepted")
    else:
        print(f"\nfitted threshold for a {a.target:.1%} lower bound: {t:.4f}: accepts {n}/{tot} ({n / tot:.1%}), {k}/{n} right")
    by = defaultdict(list)
    for r in rows:
        by[r["source"]].append(r)
    if len(by) > 1:
        print("\nleave one source out (fit on the others, apply to it):")
        for src, held in sorted(by.items()):
            tt = fit([r for r in rows if r["source"] != src], a.target)
            n, k, tot = apply(held, tt)
            fitted = f"threshold {tt:.4f}" if tt <= 1.0 else "no threshold  "
            print(f"  {src:20s} {fitted}: accepts {n}/{tot}, {k}/{n} right")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
