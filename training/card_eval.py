"""Evaluate an ONNX digit model on real crops (raw files -> the runtime classifier, the same path as
``meterread eval-digits``) and record the figures in the model card.

    # held-out figures of a model trained without those sources
    python training/card_eval.py --model /work/cache/ho_jf.onnx --source jomjol \
        --source fuel-lcd-binarised --key "heldout_evaluation" --name "trained on haverland+synthetic" \
        --command "python training/train_digits.py --holdout jomjol --holdout fuel-lcd-binarised ..."
    # figures of the shipped model (all sources were in training: these are training-set figures)
    python training/card_eval.py --model models/digits.onnx --key evaluation --name shipped
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recognizer.classifier import DEFAULT_CARD, DigitClassifier  # noqa: E402
from recognizer.digits_eval import evaluate_digits, format_report  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=Path, default=Path("/work/shared/data/digits/labels.csv"))
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--source", action="append", default=None)
    ap.add_argument("--card", type=Path, default=DEFAULT_CARD)
    ap.add_argument("--key", default="heldout_evaluation")
    ap.add_argument("--name", required=True)
    ap.add_argument("--command", default="")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args(argv)
    res = evaluate_digits(a.labels, DigitClassifier(a.model, threads=a.threads), sources=a.source)
    print(format_report(res))
    card = json.loads(a.card.read_text()) if a.card.is_file() else {}
    entry = {"model": a.name, "command": a.command, "scoring": "settled digit, or for rolling crops "
             "(tenths 2-8, NaN) either neighbour or 'rolling'; NaN crops: any digit answer",
             "by_source": {k: {"n": v["n"], "accuracy": round(v["accuracy"], 4),
                               "accuracy_without_nan": round(v["accuracy_without_nan"], 4),
                               "nan_crops": v.get("n_nan", 0),
                               "nan_flagged_rolling": v.get("nan_flagged_rolling", 0),
                               "answered_not_a_digit": v.get("not_digit", 0)}
                           for k, v in res["by_source"].items()}}
    card.setdefault(a.key, {})[a.name] = entry
    a.card.write_text(json.dumps(card, indent=1) + "\n")


if __name__ == "__main__":
    main()
