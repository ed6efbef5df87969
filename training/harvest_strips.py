#!/usr/bin/env python3
"""Harvest the strips the pipeline really reads from labelled photos (for distilling the line reader).

Every photo is read by ``recognizer.read.read_photo`` with a recording reader that keeps each strip image it
is given (first look, second look, detector areas) and passes it on to the teacher (``models/reader.onnx``).
With ``--extra`` (the default) the second look and the detector's areas are also cut for photos where the
pipeline was sure without them: a student less sure than the teacher takes those paths more often.

No labels are needed or used (the teacher's reads are the targets, see ``training/distill_reader.py``).
Runs in the runtime environment (no torch).

    .venv/bin/python training/harvest_strips.py ../shared/data/photos/labels.csv --out /work/cache/harvest.npz
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from recognizer.reader import LineRead, LineReader  # noqa: E402

# where a strip was met: the pipeline's own reads, or the extra looks taken with --extra
PIPELINE, EXTRA = 0, 1


class RecordingReader:
    """A line reader that remembers every distinct strip it is asked to read, then asks ``inner``.

    Strips already read (same pixels) are answered from memory, so the extra looks cost only new strips."""

    def __init__(self, inner):
        self.inner = inner
        self.tag = PIPELINE
        self.strips: list[np.ndarray] = []
        self.tags: list[int] = []
        self._seen: dict[str, LineRead] = {}

    @staticmethod
    def key(strip: np.ndarray) -> str:
        a = np.ascontiguousarray(strip)
        return hashlib.sha1(a.tobytes() + str(a.shape).encode()).hexdigest()

    def read(self, strips: list[np.ndarray]) -> list[LineRead]:
        keys = [self.key(s) for s in strips]
        new = [i for i, k in enumerate(keys) if k not in self._seen]
        if new:
            lines = self.inner.read([strips[i] for i in new])
            for i, line in zip(new, lines):
                if keys[i] in self._seen:  # the same strip twice in one call
                    continue
                self._seen[keys[i]] = line
                self.strips.append(np.ascontiguousarray(strips[i]).copy())
                self.tags.append(self.tag)
        return [self._seen[k] for k in keys]


def extra_looks(path: Path, rec: RecordingReader) -> None:
    """The second look at the best rows and the detector's areas, whether or not the pipeline needed them."""
    from pipeline.decode import decode
    from pipeline.locate import LocateConfig, propose_windows, windows_from_heatmap
    from recognizer.config import RecognizerConfig
    from recognizer.detector import default_detector
    from recognizer.read import evaluate_windows

    decoded = decode(path.read_bytes(), RecognizerConfig().decode)
    proposals = propose_windows(decoded, LocateConfig())
    evaluate_windows(decoded, proposals, rec, None, closer=True)
    det = default_detector()
    if det.available():
        prob, cells_per_px = det.heatmap(decoded.image)
        net = windows_from_heatmap(decoded, prob, cells_per_px)
        if net:
            evaluate_windows(decoded, net, rec, None, closer=True)


def pack(strips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Variable-size BGR strips -> one flat uint8 buffer and their (h, w) shapes."""
    shapes = np.array([s.shape[:2] for s in strips], np.int32).reshape(-1, 2)
    flat = np.concatenate([s.reshape(-1) for s in strips]) if strips else np.zeros(0, np.uint8)
    return flat.astype(np.uint8), shapes


def unpack(flat: np.ndarray, shapes: np.ndarray) -> list[np.ndarray]:
    out, o = [], 0
    for h, w in shapes:
        n = int(h) * int(w) * 3
        out.append(flat[o:o + n].reshape(int(h), int(w), 3))
        o += n
    return out


def load(path: Path) -> dict:
    d = np.load(path, allow_pickle=False)
    return {"strips": unpack(d["flat"], d["shapes"]), "photo": d["photo"], "tag": d["tag"], "files": list(d["files"])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("labels", type=Path)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-extra", dest="extra", action="store_false", help="only the strips the pipeline read")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    from recognizer.read import read_photo

    with a.labels.open(newline="") as fh:
        rows = list(csv.DictReader(fh))[: a.limit]
    teacher = LineReader()
    strips, photo, tags, files = [], [], [], []
    t0 = time.time()
    for i, row in enumerate(rows):
        rec = RecordingReader(teacher)
        path = a.labels.parent / row["file"]
        try:
            read_photo(path, reader=rec)
            if a.extra:
                rec.tag = EXTRA
                extra_looks(path, rec)
        except Exception as e:  # noqa: BLE001 - an unreadable photo gives no strips
            print(f"{row['file']}: {e}", flush=True)
        strips += rec.strips
        tags += rec.tags
        photo += [i] * len(rec.strips)
        files.append(row["file"])
        if (i + 1) % 50 == 0:
            print(f"{i + 1}/{len(rows)} photos, {len(strips)} strips, {time.time() - t0:.0f}s", flush=True)
    flat, shapes = pack(strips)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(a.out, flat=flat, shapes=shapes, photo=np.array(photo, np.int32), tag=np.array(tags, np.int8),
             files=np.array(files))
    print(f"{len(rows)} photos -> {len(strips)} strips ({sum(t == PIPELINE for t in tags)} read by the pipeline) "
          f"in {time.time() - t0:.0f}s -> {a.out}", flush=True)


if __name__ == "__main__":
    main()
