"""Cross-validate the self-training step: every photo is scored by a model that never saw it.

For each fold K of N: harvest confirmed crops from the photos outside K (``training/photo_strips.py``),
fine-tune the reader on them plus synthetic strips (``training/train_reader.py``), and read fold K's photos
with that model (``meterread eval --fold K --reader-model``). The folds' scored rows are then summarised
together, so the table is an out-of-sample figure for the photo-trained reader, by source.

    python training/crossval.py ../shared/data/photos/labels.csv --init /work/cache/reader5.pt \\
        --synthetic '/work/cache/strips5.npz@20000,/work/cache/strips3.npz@15000' --work /work/cache/cv

``--skip-train`` re-scores with the models already in ``--work`` (after a change to the pipeline).
Needs PyTorch for the training step; run with the training environment's python.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recognizer.evaluate import coverage_curve, format_table, summarise  # noqa: E402


def run(cmd: list[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("labels", type=Path)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--init", required=True, help="reader weights (.pt) to fine-tune from")
    ap.add_argument("--synthetic", required=True, help="synthetic strips for train_reader --data (name@N, comma-separated)")
    ap.add_argument("--repeat", type=int, default=5, help="how many times the photo strips are repeated in the mix")
    ap.add_argument("--copies", type=int, default=12)
    ap.add_argument("--val", default="/work/cache/strips_val.npz")
    ap.add_argument("--work", type=Path, default=Path("/work/cache/cv"))
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--reuse-strips", action="store_true", help="keep a fold's photo strips already in --work")
    ap.add_argument("--channels", default="24,48,96,128", help="train_reader --channels (the --init's shape)")
    ap.add_argument("--hidden", default="128", help="train_reader --hidden")
    ap.add_argument("--epochs", default="2")
    ap.add_argument("--max-minutes", default="20")
    ap.add_argument("--freeze-bn", action="store_true", help="train_reader --freeze-bn (an --init recovered from ONNX)")
    ap.add_argument("--harvest-models", type=Path, default=None,
                    help="a previous --work: fold K's crops are proposed by its reader_not_K.onnx (a second round)")
    ap.add_argument("--meterread", default=str(REPO / ".venv/bin/meterread"))
    a = ap.parse_args(argv)
    a.work.mkdir(parents=True, exist_ok=True)
    py = sys.executable
    labels = str(a.labels.resolve())
    scored = []
    for k in range(a.folds):
        strips, model = a.work / f"photos_not_{k}.npz", a.work / f"reader_not_{k}.onnx"
        if not a.skip_train and not (a.reuse_strips and strips.is_file()):
            run([py, "training/photo_strips.py", labels, "--folds", str(a.folds), "--fold", str(k),
                 "--copies", str(a.copies), "--seed", str(k), "--out", str(strips)]
                + (["--model", str(a.harvest_models / f"reader_not_{k}.onnx")] if a.harvest_models else []))
        if not a.skip_train:
            run([py, "training/train_reader.py", "--channels", a.channels, "--hidden", a.hidden, "--init", a.init,
                 "--data", f"{strips}*{a.repeat},{a.synthetic}", "--val", a.val, "--epochs", a.epochs, "--bs", "128",
                 "--lr", "1e-3", "--max-minutes", a.max_minutes, "--out", str(model), "--card", str(model.with_suffix(".json")),
                 "--data-note", f"cross-validation: photos outside fold {k} of {a.folds}, plus synthetic strips"]
                + (["--freeze-bn"] if a.freeze_bn else []))
        out = a.work / f"eval_fold_{k}.jsonl"
        run([a.meterread, "eval", labels, "--folds", str(a.folds), "--fold", str(k), "--reader-model", str(model),
             "--workers", str(os.cpu_count() or 1), "--out", str(out)])
        scored += [json.loads(line)["score"] for line in out.read_text().splitlines() if line.strip()]
    print(f"\nout-of-fold, {a.folds} folds: every photo read by a model trained without it\n")
    print(format_table(summarise(scored), coverage_curve(scored)))


if __name__ == "__main__":
    main()
