#!/usr/bin/env python3
"""Time read_photo against plain Tesseract (and optionally RapidOCR) on the same photos, one thread each.

    python bench/bench_pipeline.py [PHOTOS_DIR] [--limit 40] [--engine cnn] [--rapidocr]

Photos default to ../shared/data/photos when present, else sample_images/. Every method starts from
the photo's bytes in memory: read_photo decodes them itself; the baselines decode with pipeline.decode
(the same reduced-size decoding) and run on the whole photo (Tesseract: --psm 11, digits whitelist).
Prints the median per photo, the first read (model loading included), the ratios and peak RSS.
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


def time_method(name: str, fn, datas: list[bytes]) -> dict:
    """Run ``fn`` on each photo's bytes; the first call is reported apart (it loads models)."""
    times, failures = [], 0
    first = None
    for data in datas:
        t0 = time.perf_counter()
        try:
            fn(data)
        except Exception as exc:  # a failing photo still took time; count it and go on
            failures += 1
            if failures == 1:
                print(f"  {name}: first failure: {type(exc).__name__}: {exc}", file=sys.stderr)
        dt = (time.perf_counter() - t0) * 1000
        if first is None:
            first = dt
        else:
            times.append(dt)
    med = statistics.median(times) if times else first
    return {"name": name, "median_ms": med, "first_ms": first, "n": len(datas), "failures": failures}


def peak_rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kB on Linux


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("photos", nargs="?", type=Path, default=None, help="folder of photos (recursive)")
    p.add_argument("--limit", type=int, default=40, help="photos to time (spread over the folder); 0 = all")
    p.add_argument("--engine", choices=("cnn", "tesseract", "auto"), default=None, help="read_photo engine")
    p.add_argument("--rapidocr", action="store_true", help="also time RapidOCR on the whole photo, if installed")
    p.add_argument("--no-phone", dest="phone", action="store_false", help="skip the 12-megapixel photo")
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

    def read(d: bytes):
        r = read_photo(d, config=config)
        for k, v in r.stages_ms.items():
            stages.setdefault(k, []).append(v)

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

    def tesseract(d: bytes) -> str:
        img = decode(d).image
        return pytesseract.image_to_string(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), config=TESSERACT_CONFIG)

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
            engine = RapidOCR()
            results.append(time_method("rapidocr (whole photo)", lambda d: engine(decode(d).image), datas))

    base = results[0]["median_ms"]
    print(f"\n{'method':36s} {'median ms':>10s} {'first ms':>10s} {'failures':>9s} {'x read_photo':>13s}")
    for r in results:
        ratio = r["median_ms"] / base if base else float("nan")
        print(f"{r['name']:36s} {r['median_ms']:10.1f} {r['first_ms']:10.1f} {r['failures']:6d}/{r['n']:<3d} {ratio:12.2f}x")
    if any(r["failures"] for r in results):
        print("(failed photos are timed too: a method that fails fast looks fast)")
    print(
        f"\npeak RSS: {peak_rss_mb():.0f} MB this process (before reading {rss_before:.0f} MB, after read_photo {rss_read:.0f} MB); "
        f"{peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB largest child process (tesseract)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
