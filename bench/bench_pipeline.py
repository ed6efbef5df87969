#!/usr/bin/env python3
"""Time read_photo against plain Tesseract (and optionally RapidOCR) on the same photos, one thread each.

    python bench/bench_pipeline.py [PHOTOS_DIR] [--limit 40] [--engine cnn] [--rapidocr]

Photos default to ../shared/data/photos when present, else sample_images/. Every method starts from
the photo's bytes in memory: read_photo decodes them itself; the baselines decode with pipeline.decode
(the same reduced-size decoding) and run on the whole photo (Tesseract: --psm 11, digits whitelist).
Prints the median per photo, the first read (model loading included), the ratios, each method's accuracy on
the labelled photos timed (labels.csv of the folder), and the first read and peak RSS of a fresh process
that only reads photos, as one service worker does.
"""
from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy / OpenCV / onnxruntime load

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

cv2.setNumThreads(1)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
TESSERACT_CONFIG = "--psm 11 -c tessedit_char_whitelist=0123456789"


def default_photos_dir() -> Path:
    shared = ROOT.parent / "shared" / "data" / "photos"
    return shared if shared.is_dir() else ROOT / "sample_images"


def pick_photos(folder: Path, limit: int | None) -> list[Path]:
    """Every photo under ``folder``, or ``limit`` of them spread evenly over the sorted list (all sources)."""
    photos = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if limit and len(photos) > limit:
        step = len(photos) / limit
        photos = [photos[int(i * step)] for i in range(limit)]
    return photos


def photo_labels(folder: Path) -> dict[Path, dict]:
    """The labels.csv rows of ``folder`` (``file`` relative to it) by photo path; empty without one."""
    import csv

    labels = folder / "labels.csv"
    if not labels.is_file():
        return {}
    with open(labels, newline="") as fh:
        return {(folder / row["file"]).resolve(): row for row in csv.DictReader(fh)}


def prominent_number(items: list[tuple[float, str]]) -> str | None:
    """What a general OCR offers as the meter's reading: of the texts it found with two digits or more, the
    one set in the tallest type (``items``: (text height, text)), kept to its digits and point."""
    best = None
    for height, text in items:
        cleaned = "".join(ch for ch in text if ch.isdigit() or ch in ".,").replace(",", ".").strip(".")
        if sum(ch.isdigit() for ch in cleaned) >= 2 and (best is None or height > best[0]):
            best = (height, cleaned)
    return best[1] if best else None


def accuracy(name: str, guesses: list[str | None], labels: list[dict | None]) -> dict:
    """Integer part right (strictly, and counting a label that is the display rounded) over labelled photos."""
    from recognizer.evaluate import score_row

    rows = [score_row(lab, {"reading": g}) for g, lab in zip(guesses, labels) if lab and lab.get("reading")]
    n = len(rows)
    return {
        "name": name, "n": n,
        "int_exact": sum(bool(r["int_exact"]) for r in rows) / n if n else None,
        "int_rounded": sum(bool(r["int_or_rounded"]) for r in rows) / n if n else None,
    }


WORKER_PROBE = """
import os, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import cv2
cv2.setNumThreads(1)
from recognizer import read_photo
t1 = time.perf_counter()
paths = sys.argv[3:]
read_photo(open(paths[0], "rb").read())
t2 = time.perf_counter()
for _ in range(int(sys.argv[2])):
    for p in paths:
        read_photo(open(p, "rb").read())
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so it would count the parent bench's memory
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print((t1 - t0) * 1000, (t2 - t1) * 1000, hwm / 1024)
"""


def fresh_worker(photos: list[Path], rounds: int) -> dict:
    """A new process like one service worker: imports, the first read (models loaded on first use), then
    ``rounds`` passes over the photos; its peak resident memory, none of this process's baselines in it."""
    import subprocess

    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", WORKER_PROBE, str(ROOT), str(rounds), *map(str, photos)],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.split()
    imports, first, rss = map(float, out[-3:])
    return {"import_ms": imports, "first_ms": first, "peak_rss_mb": rss, "reads": rounds * len(photos) + 1}


def time_method(name: str, fn, datas: list[bytes]) -> dict:
    """Run ``fn`` on each photo's bytes; the first call is reported apart (it loads models)."""
    times, failures, outputs = [], 0, []
    first = None
    for data in datas:
        t0 = time.perf_counter()
        out = None
        try:
            out = fn(data)
        except Exception as exc:  # a failing photo still took time; count it and go on
            failures += 1
            if failures == 1:
                print(f"  {name}: first failure: {type(exc).__name__}: {exc}", file=sys.stderr)
        dt = (time.perf_counter() - t0) * 1000
        outputs.append(out)
        if first is None:
            first = dt
        else:
            times.append(dt)
    med = statistics.median(times) if times else first
    return {"name": name, "median_ms": med, "first_ms": first, "n": len(datas), "failures": failures, "outputs": outputs}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("photos", nargs="?", type=Path, default=None, help="folder of photos (recursive)")
    p.add_argument("--limit", type=int, default=40, help="photos to time (spread over the folder); 0 = all")
    p.add_argument("--engine", choices=("cnn", "tesseract", "auto"), default=None, help="read_photo engine")
    p.add_argument("--rapidocr", action="store_true", help="also time RapidOCR on the whole photo, if installed")
    p.add_argument("--no-phone", dest="phone", action="store_false", help="skip the 12-megapixel photo")
    p.add_argument("--worker-rounds", type=int, default=3,
                   help="passes over the photos of a fresh worker process, for its first read and peak memory (0: none)")
    p.add_argument("--without-detector", action="store_true",
                   help="also time read_photo without the window detector's proposals (what it costs)")
    args = p.parse_args(argv)

    from pipeline.decode import decode
    from recognizer import RecognizerConfig, read_photo

    folder = args.photos or default_photos_dir()
    photos = pick_photos(folder, args.limit or None)
    if not photos:
        print(f"no photos under {folder}", file=sys.stderr)
        return 1
    datas = [ph.read_bytes() for ph in photos]
    print(f"{len(photos)} photos from {folder}; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, cv2 threads={cv2.getNumThreads()}")
    config = RecognizerConfig(engine=args.engine) if args.engine else RecognizerConfig()

    results = []
    rss_before = peak_rss_mb()
    stages: dict[str, list[float]] = {}

    def read(d: bytes) -> str | None:
        r = read_photo(d, config=config)
        for k, v in r.stages_ms.items():
            stages.setdefault(k, []).append(v)
        return r.reading

    results.append(time_method(f"read_photo ({config.engine})", read, datas))
    rss_read = peak_rss_mb()
    if args.without_detector:
        plain = replace(config, detector=False)
        results.append(time_method("read_photo, no detector", lambda d: read_photo(d, config=plain), datas))
    print("read_photo stages, median ms: " + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in stages.items()))
    if args.phone:
        # a 12-megapixel phone photo: one of the photos enlarged to 4032x3024 and saved as a phone would
        img = cv2.imdecode(np.frombuffer(datas[0], np.uint8), cv2.IMREAD_COLOR)
        big = cv2.resize(img, (4032, 3024), interpolation=cv2.INTER_CUBIC)
        big = cv2.GaussianBlur(big, (0, 0), 0.8) + np.random.default_rng(0).normal(0, 3, big.shape).astype(np.int16)
        ok, jpg = cv2.imencode(".jpg", np.clip(big, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 92])
        phone = time_method("read_photo, 12 MP phone photo", lambda d: read_photo(d, config=config), [jpg.tobytes()] * 11)
        print(f"12 MP photo ({len(jpg) / 1e6:.1f} MB JPEG): median {phone['median_ms']:.1f} ms over 10 reads")

    import pytesseract

    def tesseract(d: bytes) -> str | None:
        img = decode(d).image
        data = pytesseract.image_to_data(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), config=TESSERACT_CONFIG,
                                         output_type=pytesseract.Output.DICT)
        return prominent_number(list(zip(data["height"], data["text"])))

    try:
        pytesseract.get_tesseract_version()
        results.append(time_method("tesseract --psm 11 (whole photo)", tesseract, datas))
    except Exception as exc:  # pytesseract.TesseractNotFoundError
        print(f"tesseract unavailable ({exc}); install it: apt-get install -y tesseract-ocr", file=sys.stderr)

    if args.rapidocr:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            print("rapidocr_onnxruntime is not installed: pip install '.[bench]' && pip install --no-deps rapidocr-onnxruntime", file=sys.stderr)
        else:
            # one thread like every other method: by default onnxruntime takes every core, and measured with
            # the second core busy RapidOCR took 680 ms a photo instead of 242
            engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)

            def rapidocr(d: bytes) -> str | None:
                found, _ = engine(decode(d).image)
                # each found text: (four corners, text, score); its height from the box's left edge
                return prominent_number([(float(np.linalg.norm(np.subtract(box[3], box[0]))), text)
                                         for box, text, _ in found or []])

            results.append(time_method("rapidocr (whole photo)", rapidocr, datas))

    base = results[0]["median_ms"]
    print(f"\n{'method':36s} {'median ms':>10s} {'first ms':>10s} {'failures':>9s} {'x read_photo':>13s}")
    for r in results:
        ratio = r["median_ms"] / base if base else float("nan")
        print(f"{r['name']:36s} {r['median_ms']:10.1f} {r['first_ms']:10.1f} {r['failures']:6d}/{r['n']:<3d} {ratio:12.2f}x")
    if any(r["failures"] for r in results):
        print("(failed photos are timed too: a method that fails fast looks fast)")
    labels = photo_labels(folder)
    photo_rows = [labels.get(ph.resolve()) for ph in photos]
    acc = [accuracy(r["name"], r["outputs"], photo_rows) for r in results if r["name"] != "read_photo, no detector"]
    if acc and acc[0]["n"]:
        # a general OCR's reading is the number in its tallest type (bench_pipeline.prominent_number)
        print(f"\naccuracy on the {acc[0]['n']} labelled photos timed (integer part right; with a label that is the display rounded):")
        for a in acc:
            print(f"  {a['name']:36s} {a['int_exact']:6.1%}  ({a['int_rounded']:.1%})")
    if args.worker_rounds:
        w = fresh_worker(photos, args.worker_rounds)
        print(
            f"\na fresh worker process: imports {w['import_ms']:.0f} ms, model load + first read {w['first_ms']:.0f} ms; "
            f"peak RSS {w['peak_rss_mb']:.0f} MB over {w['reads']} reads"
        )
    print(
        f"\npeak RSS of this process, baselines loaded: {peak_rss_mb():.0f} MB (before reading {rss_before:.0f} MB, "
        f"after read_photo {rss_read:.0f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
