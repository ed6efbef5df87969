#!/usr/bin/env python3
"""Render synthetic meter photos with exact labels (see synth/meters.py).

    python scripts/render_meters.py --out out/synth --n 1000 --seed 1
    python scripts/render_meters.py --out sample_images --n 10 --seed 7 --quality 85 --manifest

Writes the photos, labels.csv (file,reading,meter_kind,window,source) and corners.jsonl (exact quads);
with --manifest also manifest.csv (file,reading,kind,window,licence,sha256) for shipped samples.
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from synth.meters import RenderConfig, render_dataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n", type=int, default=100, help="number of photos")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=800)
    p.add_argument("--height", type=int, default=600)
    p.add_argument("--quality", type=int, default=None, help="JPEG quality for every photo (default: drawn per photo, 55-95)")
    p.add_argument("--lcd-share", type=float, default=RenderConfig.lcd_p, help="share of LCD meters")
    p.add_argument("--dual-share", type=float, default=RenderConfig.dual_register_p, help="share of two-register meters")
    p.add_argument("--no-ttf", action="store_true", help="Hershey and seven-segment glyphs only (same output on every machine)")
    p.add_argument("--prefix", default="synth")
    p.add_argument("--manifest", action="store_true", help="also write manifest.csv with licence and sha256")
    args = p.parse_args(argv)
    cfg = RenderConfig(
        width=args.width, height=args.height, lcd_p=args.lcd_share, dual_register_p=args.dual_share, use_ttf_fonts=not args.no_ttf
    )
    try:
        from tqdm import tqdm

        bar = tqdm(total=args.n, unit="photo", file=sys.stderr)
        progress = lambda i: bar.update(1)  # noqa: E731
    except ImportError:  # pragma: no cover
        bar, progress = None, None
    rows = render_dataset(args.out, args.n, args.seed, cfg, quality=args.quality, prefix=args.prefix, progress=progress)
    if bar:
        bar.close()
    if args.manifest:
        with open(Path(args.out) / "manifest.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "reading", "kind", "window", "licence", "sha256"])
            for r in rows:
                w.writerow([r["file"], r["reading"], r["kind"], r["window"], f"Apache-2.0, rendered by scripts/render_meters.py --seed {args.seed}", r["sha256"]])
    print(f"wrote {len(rows)} photos to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
