"""The ``meterread`` command: read one photo, read many (folders, zip archives, saved e-mails), evaluate on labels.

    meterread read PHOTO|MESSAGE.eml [--previous V] [--engine cnn|tesseract|auto] [--debug-image OUT.png] [--crop OUT.png]
    meterread batch PATH... --out rows.jsonl|rows.csv [--workers N]
    meterread eval LABELS.csv [--out rows.jsonl] [--report DIR] [--workers N]
    meterread eval-digits LABELS.csv
    meterread serve | init-db | create-account | create-meter | create-user | demo   (the service, api/cli.py)
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import os
import sys
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterable, Iterator

from .workers import cpu_count, init_worker, worker_config

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_MEMBER_BYTES = 40 * 1024 * 1024  # a zip member larger than this (declared or actual) is not read
CSV_FIELDS = ("file", "status", "reading", "confidence", "reason", "window", "digits", "elapsed_ms", "error")


# ----------------------------------------------------------------------------------------------- items


@dataclass(frozen=True)
class Item:
    """One photo to read: ``name`` is what the output row calls it; ``path`` a file, or the zip or saved e-mail
    (``.eml``) holding ``member`` (a zip member's name; for a message, the photo's index among its photos, or
    ``""`` for a message without one)."""

    name: str
    path: str
    member: str | None = None
    turn: int = 0  # degrees clockwise the photo is turned before it is read (eval --turn), EXIF dropped


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES)


def _is_mail(path: Path) -> bool:
    return path.suffix.lower() == ".eml"


def _mail_bytes(path: Path) -> bytes:
    """A saved message's bytes; one larger than any message is refused before it is read into memory."""
    from .mail import MAX_MESSAGE_BYTES, MailError

    if path.stat().st_size > MAX_MESSAGE_BYTES:
        raise MailError("too_large", f"The message is over {MAX_MESSAGE_BYTES / 1e6:.0f} MB; it was not read.")
    return path.read_bytes()


def mail_items(path: Path, name: str) -> list[Item]:
    """One item per photo of a saved e-mail, named ``MESSAGE.eml/PHOTO``; a message that cannot be read or
    holds no photo is one item too, so its row says why."""
    from .mail import MailError, parse_message

    try:
        photos = parse_message(_mail_bytes(path), MAX_MEMBER_BYTES).photos
    except (MailError, OSError):
        photos = ()
    if not photos:
        return [Item(name=name, path=str(path), member="")]
    return [Item(name=f"{name}/{a.name}", path=str(path), member=str(a.index)) for a in photos]


def collect_items(paths: Iterable[str]) -> list[Item]:
    """Photos from files (taken as given), folders (recursive, image suffixes and saved e-mails), zip
    archives and saved e-mails (``.eml``: their image attachments)."""
    items: list[Item] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for f in sorted(path.rglob("*")):
                if f.is_file() and _is_image_name(f.name):
                    items.append(Item(name=f.relative_to(path).as_posix(), path=str(f)))
                elif f.is_file() and _is_mail(f):
                    items.extend(mail_items(f, f.relative_to(path).as_posix()))
        elif _is_mail(path) and path.is_file():
            items.extend(mail_items(path, str(p)))
        elif path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if not info.is_dir() and _is_image_name(info.filename) and not info.filename.startswith("__MACOSX/"):
                        items.append(Item(name=info.filename, path=str(path), member=info.filename))
        else:
            items.append(Item(name=str(p), path=str(path)))
    return items


_ZIPS: dict[str, zipfile.ZipFile] = {}


def load_mail_photo(item: Item, max_member_bytes: int) -> bytes:
    """The photo ``item.member`` of a saved e-mail (the message parsed again: workers get items, not bytes)."""
    from pipeline.decode import ImageError

    from .mail import parse_message

    photos = parse_message(_mail_bytes(Path(item.path)), max_member_bytes).photos  # MailError is an ImageError
    if item.member == "" or not photos:
        raise ImageError("no_photo", "The message has no photo attached: send the meter's photo as an attachment.")
    photo = photos[int(item.member)]
    if photo.data is None:
        raise ImageError("too_large", photo.error or "The attachment is too large.")
    return photo.data


def load_bytes(item: Item, max_member_bytes: int | None = None) -> bytes | str:
    """The photo's bytes (zip members and e-mail attachments read in memory, capped against bombs), or its path."""
    if item.member is None:
        return item.path
    max_member_bytes = max_member_bytes or MAX_MEMBER_BYTES
    from pipeline.decode import ImageError

    if _is_mail(Path(item.path)):
        return load_mail_photo(item, max_member_bytes)

    zf = _ZIPS.get(item.path)
    if zf is None:
        zf = _ZIPS[item.path] = zipfile.ZipFile(item.path)
    info = zf.getinfo(item.member)
    too_big = ImageError("too_large", f"The archive member is over {max_member_bytes / 1e6:.0f} MB uncompressed; it was not read.")
    if info.file_size > max_member_bytes:
        raise too_big
    with zf.open(info) as fh:
        data = fh.read(max_member_bytes + 1)  # the declared size may lie: never read more than the cap
    if len(data) > max_member_bytes:
        raise too_big
    return data


# ----------------------------------------------------------------------------------------------- reading


def error_row(name: str, code: str, reason: str, elapsed_ms: float) -> dict:
    return {
        "file": name,
        "status": "rejected",
        "reading": None,
        "confidence": 0.0,
        "registers": [],
        "digits": [],
        "window": None,
        "reason": reason,
        "error": code,
        "elapsed_ms": round(elapsed_ms, 1),
    }


def read_item(item: Item, with_images: bool = False) -> dict:
    """One output row; never raises. Images (PNG bytes) ride along under ``_images`` when asked for."""
    from pipeline.decode import ImageError

    from .read import read_photo

    t0 = time.perf_counter()
    if item.member is None and not Path(item.path).is_file():
        return error_row(item.name, "not_found", f"No such file: {item.path}", 0.0)
    try:
        source = load_bytes(item)
        if item.turn:
            from .evaluate import turned_photo

            source = turned_photo(source, item.turn)
        result = read_photo(source, config=worker_config(), with_images=with_images)
        row = result.to_dict()
        row["file"] = item.name
        row["error"] = None
        if with_images:
            row["_images"] = dict(result.images)
        return row
    except ImageError as exc:
        return error_row(item.name, exc.code, exc.message, (time.perf_counter() - t0) * 1000)
    except Exception as exc:  # a bug on one photo must not stop the batch
        return error_row(item.name, "internal_error", f"{type(exc).__name__}: {exc}", (time.perf_counter() - t0) * 1000)


def read_items(
    items: list[Item], workers: int, engine: str | None, with_images: bool = False, desc: str = "reading",
    reader_model: str | None = None,
) -> Iterator[dict]:
    """Rows as they finish, with a progress bar on stderr; ``workers`` processes (1 = in this process)."""
    from tqdm import tqdm

    bar = tqdm(total=len(items), unit="photo", file=sys.stderr, desc=desc, dynamic_ncols=True)
    try:
        if workers <= 1 or len(items) <= 1:
            init_worker(engine, reader_model)
            for item in items:
                row = read_item(item, with_images)
                bar.update(1)
                yield row
            return
        with ProcessPoolExecutor(max_workers=workers, initializer=init_worker, initargs=(engine, reader_model)) as pool:
            pending = set()
            queue = iter(items)
            for item in queue:  # keep a few photos per worker in flight, not the whole batch
                pending.add(pool.submit(read_item, item, with_images))
                if len(pending) >= workers * 4:
                    break
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    bar.update(1)
                    yield fut.result()
                    nxt = next(queue, None)
                    if nxt is not None:
                        pending.add(pool.submit(read_item, nxt, with_images))
    finally:
        bar.close()


# ----------------------------------------------------------------------------------------------- output


def csv_row(row: dict) -> dict:
    compact = lambda v: json.dumps(v, separators=(",", ":")) if v is not None else ""  # noqa: E731
    return {
        "file": row.get("file"),
        "status": row.get("status"),
        "reading": row.get("reading") or "",
        "confidence": row.get("confidence"),
        "reason": row.get("reason") or "",
        "window": compact(row.get("window")),
        "digits": compact(row.get("digits") or []),
        "elapsed_ms": row.get("elapsed_ms"),
        "error": row.get("error") or "",
    }


class RowWriter:
    """Writes rows as they come (JSON Lines for .jsonl, CSV for .csv), flushed after each."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.csv = self.path.suffix.lower() == ".csv"
        self.fh = open(self.path, "w", newline="" if self.csv else None, encoding="utf-8")
        self.writer = csv.DictWriter(self.fh, fieldnames=CSV_FIELDS) if self.csv else None
        if self.writer:
            self.writer.writeheader()

    def write(self, row: dict) -> None:
        clean = {k: v for k, v in row.items() if not k.startswith("_")}
        if self.writer:
            self.writer.writerow(csv_row(clean))
        else:
            self.fh.write(json.dumps(clean, ensure_ascii=False) + "\n")
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ----------------------------------------------------------------------------------------------- commands


def _date(s: str) -> date:
    return date.fromisoformat(s)


def cmd_read(args) -> int:
    from pipeline.decode import ImageError

    from .config import RecognizerConfig
    from .read import read_photo

    config = RecognizerConfig(engine=args.engine) if args.engine else RecognizerConfig()
    t0 = time.perf_counter()
    want_images = bool(args.debug_image or args.crop)
    if not Path(args.photo).is_file():
        print(json.dumps(error_row(args.photo, "not_found", f"No such file: {args.photo}", 0.0), indent=2))
        return 2
    # a saved e-mail: each attached photo is read and the surest read is the answer, as the service does
    sources = ([(it.name, it) for it in mail_items(Path(args.photo), args.photo)] if _is_mail(Path(args.photo))
               else [(args.photo, None)])
    best, failure = None, None
    for name, item in sources:
        try:
            result = read_photo(
                args.photo if item is None else load_bytes(item),
                previous=args.previous,
                previous_date=args.previous_date,
                photo_date=args.photo_date,
                config=config,
                with_images=want_images,
            )
        except ImageError as exc:
            failure = failure or error_row(name, exc.code, exc.message, (time.perf_counter() - t0) * 1000)
            continue
        except Exception as exc:  # a bug: the JSON says so, the traceback goes to stderr
            import traceback

            traceback.print_exc()
            reason = f"{type(exc).__name__}: {exc}"
            print(json.dumps(error_row(name, "internal_error", reason, (time.perf_counter() - t0) * 1000), indent=2))
            return 3
        if best is None or (result.status == "accepted", result.confidence) > (best[1].status == "accepted", best[1].confidence):
            best = (name, result)
    if best is None:
        print(json.dumps(failure, indent=2))
        return 2
    name, result = best
    row = result.to_dict()
    row["file"] = name
    row["error"] = None
    for key, out in (("debug", args.debug_image), ("crop", args.crop)):
        if out:
            if result.images.get(key):
                from .debug import write_image

                write_image(out, result.images[key])
            else:
                print(f"meterread: no {key} image for this photo", file=sys.stderr)
    print(json.dumps(row, indent=2, ensure_ascii=False))
    return 0


def _workers(n: int | None) -> int:
    return n if n and n > 0 else cpu_count()


def cmd_batch(args) -> int:
    items = collect_items(args.paths)
    if not items:
        print("meterread: no photos found", file=sys.stderr)
        return 1
    counts: dict[str, int] = {}
    with RowWriter(args.out) as writer:
        for row in read_items(items, _workers(args.workers), args.engine):
            writer.write(row)
            counts[row["status"]] = counts.get(row["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"{len(items)} photos: {summary}; rows in {args.out}", file=sys.stderr)
    return 0


def read_labels(path: str | os.PathLike) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [r for r in csv.DictReader(fh) if r.get("file")]


def cmd_eval(args) -> int:
    from .evaluate import coverage_curve, fold_of, format_table, score_row, summarise

    labels_path = Path(args.labels)
    labels = read_labels(labels_path)
    if args.source:
        labels = [r for r in labels if r.get("source") in args.source]
    if args.fold is not None:
        labels = [r for r in labels if fold_of(r["file"], args.folds) == args.fold]
    if args.limit:
        labels = labels[: args.limit]
    if args.turn:
        # the label's window box is in the upright photo's pixels: not compared on a turned one
        labels = [{**r, "window": ""} for r in labels]
    by_name = {r["file"]: r for r in labels}
    items = [Item(name=r["file"], path=str(labels_path.parent / r["file"]), turn=args.turn) for r in labels]
    report = Path(args.report) if args.report else None
    scored: list[dict] = []
    failures: list[tuple[dict, dict]] = []
    writer = RowWriter(args.out) if args.out else None
    try:
        for row in read_items(items, _workers(args.workers), args.engine, with_images=report is not None, desc="eval",
                              reader_model=args.reader_model):
            score = score_row(by_name[row["file"]], row)
            scored.append(score)
            if writer:
                writer.write({**row, "score": score})
            if report is not None and score["cause"]:
                failures.append((score, save_case_images(report, len(failures), row)))
    finally:
        if writer:
            writer.close()
    summary = summarise(scored)
    curve = coverage_curve(scored)
    print(format_table(summary, curve))
    if report is not None:
        index = write_report(report, failures, summary)
        print(f"\nreport: {index}", file=sys.stderr)
    return 0


def cmd_eval_digits(args) -> int:
    from .classifier import DigitClassifier, default_classifier
    from .digits_eval import evaluate_digits, format_report, read_exclusions

    classifier = DigitClassifier(args.model) if args.model else default_classifier()
    exclude = set().union(*(read_exclusions(Path(p)) for p in args.exclude or []))
    res = evaluate_digits(Path(args.labels), classifier, sources=args.source or None, exclude=exclude)
    print(format_report(res))
    return 0


# ----------------------------------------------------------------------------------------------- report


def save_case_images(out_dir: Path, index: int, row: dict) -> dict:
    """Write a failed case's debug image and crop to ``out_dir/images`` now (not held in memory); returns the
    row with ``_image_files`` instead of ``_images``."""
    from .debug import image_ext

    img_dir = out_dir / "images"
    img_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for key, data in (row.get("_images") or {}).items():
        if key in ("debug", "crop") and data:
            name = f"{index:05d}_{key}.{image_ext(data)}"
            (img_dir / name).write_bytes(data)
            files[key] = f"images/{name}"
    slim = {k: v for k, v in row.items() if k != "_images"}
    slim["_image_files"] = files
    return slim


def write_report(out_dir: Path, failures: list[tuple[dict, dict]], summary: dict) -> Path:
    """index.html beside images/: every wrong or not-accepted photo with its debug image and crop, by cause."""
    from .evaluate import CAUSES

    out_dir.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[str]] = {}
    for score, row in failures:
        files = row.get("_image_files") or {}
        cells = [f'<img src="{html.escape(files[k])}" alt="{k}" class="{k}">' for k in ("debug", "crop") if k in files]
        e = html.escape
        text = (
            f"<div class='case'><div class='meta'><b>{e(str(score['file']))}</b><br>"
            f"truth <code>{e(str(score['truth']))}</code> &middot; guess <code>{e(str(score['guess']))}</code><br>"
            f"{e(str(score['status']))}, confidence {score['confidence']:.3f}"
            + (f", error {e(str(score['error']))}" if score.get("error") else "")
            + f"<br><i>{e(str(row.get('reason') or ''))}</i></div>{''.join(cells)}</div>"
        )
        groups.setdefault(score["cause"], []).append(text)
    order = [c for c in CAUSES if c in groups] + [c for c in groups if c not in CAUSES]
    o = summary["overall"]
    parts = [
        "<!doctype html><meta charset='utf-8'><title>meterread evaluation</title>",
        "<style>body{font-family:sans-serif;margin:1em}.case{display:flex;gap:1em;align-items:flex-start;"
        "border-bottom:1px solid #ddd;padding:.5em 0}.meta{width:22em;font-size:90%}img.debug{max-width:560px}"
        "img.crop{max-height:120px}code{background:#f3f3f3;padding:0 .2em}</style>",
        "<h1>meterread evaluation: wrong or not accepted</h1>",
        f"<p>{o['n']} photos, {o['n_labelled']} labelled; {len(failures)} listed here.</p><ul>",
    ]
    parts += [f"<li><a href='#c{k}'>{html.escape(c)}</a>: {len(groups[c])}</li>" for k, c in enumerate(order)]
    parts.append("</ul>")
    for k, c in enumerate(order):
        parts.append(f"<h2 id='c{k}'>{html.escape(c)} ({len(groups[c])})</h2>")
        parts += groups[c]
    index = out_dir / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


# ----------------------------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meterread", description="Read utility meters from photos.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    engines = ("cnn", "tesseract", "auto")

    p = sub.add_parser("read", help="read one photo (or the surest photo of a saved e-mail); prints the result as JSON")
    p.add_argument("photo", help="a JPEG, PNG or WebP photo, or a saved e-mail (.eml) with photos attached")
    p.add_argument("--previous", help="the previous reading, for the plausibility check")
    p.add_argument("--previous-date", type=_date, help="date of the previous reading (YYYY-MM-DD)")
    p.add_argument("--photo-date", type=_date, help="date the photo was taken (YYYY-MM-DD)")
    p.add_argument("--engine", choices=engines)
    p.add_argument("--debug-image", metavar="OUT.png", help="write the debug overlay here")
    p.add_argument("--crop", metavar="OUT.png", help="write the digit-window crop here")
    p.set_defaults(func=cmd_read)

    p = sub.add_parser("batch", help="read photos from files, folders, zip archives and saved e-mails (.eml) into a .jsonl or .csv")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--out", required=True, metavar="FILE", help="rows.jsonl (JSON Lines) or rows.csv")
    p.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    p.add_argument("--engine", choices=engines)
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("eval", help="read the photos of a labels.csv and score them")
    p.add_argument("labels", metavar="LABELS.csv")
    p.add_argument("--out", metavar="FILE.jsonl", help="write every result with its score")
    p.add_argument("--report", metavar="DIR", help="write an HTML page of the wrong and not-accepted photos")
    p.add_argument("--workers", type=int, default=None, help="processes (default: one per core)")
    p.add_argument("--engine", choices=engines)
    p.add_argument("--source", action="append", help="only rows of this source (repeatable)")
    p.add_argument("--limit", type=int, help="only the first N rows")
    p.add_argument("--reader-model", metavar="MODEL.onnx", help="another line-reader model than models/reader.onnx")
    p.add_argument("--folds", type=int, default=2, help="with --fold: how many folds the photos are split into")
    p.add_argument("--fold", type=int, help="only the photos of this fold (a hash of the path; see training/photo_strips.py)")
    p.add_argument("--turn", type=int, choices=(0, 90, 180, 270), default=0,
                   help="turn every photo this many degrees clockwise first (its pixels, EXIF dropped): how the "
                        "reader does on photos taken sideways or upside down")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("eval-digits", help="score the digit classifier on a labels.csv of digit crops")
    p.add_argument("labels", metavar="LABELS.csv")
    p.add_argument("--model", metavar="MODEL.onnx", help="another classifier than models/digits.onnx (one trained "
                   "with sources held out: training/train_digits.py --holdout SOURCE)")
    p.add_argument("--source", action="append", help="only crops of this source (repeatable)")
    p.add_argument("--exclude", action="append", metavar="AUDIT.csv",
                   help="leave out the crops this label audit lists (its file column; docs/label-audit/)")
    p.set_defaults(func=cmd_eval_digits)

    try:  # the service verbs; reading photos must work even when the service cannot be imported
        from api.cli import add_subcommands
    except Exception as exc:  # ImportError, or an error while importing the api package
        parser.epilog = f"(service commands unavailable: {type(exc).__name__}: {exc})"
    else:
        add_subcommands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
