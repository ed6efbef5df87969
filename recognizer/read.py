"""Runs the stages in order: decode, locate, deskew, segment, classify, assemble, judge."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from pipeline.decode import decode
from pipeline.deskew import deskew, expand_quad, to_original
from pipeline.locate import LocateConfig, propose_windows
from pipeline.quality import assess_quality
from pipeline.segment import segment
from pipeline.types import DecodedImage, Deskewed, Segmentation, Window

from . import plausibility
from .assemble import Cell, fractional_start, resolve, trim
from .classifier import DigitClassifier, default_classifier
from .config import MeterSpec, RecognizerConfig
from .result import DigitRead, ReadResult, Register

STRIP_HEIGHT = 80  # deskewed strips are this tall: digits 25 to 75 px, enough for the classifier's 32


@dataclass(frozen=True)
class Candidate:
    window: Window  # tight quad around the digits, original pixels
    deskewed: Deskewed
    seg: Segmentation
    cells: tuple[Cell, ...]
    digits: tuple[DigitRead, ...]
    frac_start: int
    score: float
    digit_height: float  # original pixels

    @property
    def reading(self) -> str:
        s = "".join(d.value for d in self.digits[: self.frac_start])
        if self.frac_start < len(self.digits):
            s += "." + "".join(d.value for d in self.digits[self.frac_start :])
        return s

    @property
    def confidence(self) -> float:
        return float(np.prod([d.confidence for d in self.digits])) if self.digits else 0.0


def _crop(img: np.ndarray, b) -> np.ndarray:
    H, W = img.shape[:2]
    return img[max(0, b.y0) : min(H, b.y1), max(0, b.x0) : min(W, b.x1)]


def _tight_window(d: Deskewed, cells: tuple[Cell, ...], kind: str, score: float, source: str) -> Window:
    x0 = min(c.box.x0 for c in cells)
    x1 = max(c.box.x1 for c in cells)
    y0 = min(c.box.y0 for c in cells)
    y1 = max(c.box.y1 for c in cells)
    quad = to_original(d, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))
    return Window(quad=quad.astype(np.float32), kind=kind, score=score, source=source)


def _candidate(w: Window, d: Deskewed, seg: Segmentation, cells: list[Cell], meter: MeterSpec | None) -> Candidate | None:
    """Score one row of classified cells as the meter's reading."""
    cells = trim(cells)
    if len(cells) < 2:
        return None
    digits = resolve(cells)
    fs = fractional_start(cells, seg, meter.fractional_digits if meter else None)
    digits = [DigitRead(x.value, x.confidence, i >= fs, x.rolling, x.alternative) for i, x in enumerate(digits)]
    q = w.quad
    quad_h = float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2)
    digit_h = float(np.median([c.box.y1 - c.box.y0 for c in cells])) / d.image.shape[0] * quad_h
    confs = np.array([x.confidence for x in digits])
    unknown = sum(x.value == "?" for x in digits)
    n = len(digits)
    # the reading is usually the longest row of the largest, clearest digits on the face
    score = float(np.mean(confs)) * min(n, 8) ** 0.5 * (1.0 - 0.5 * unknown / n) * digit_h**0.5
    if meter and meter.integer_digits is not None:
        want = meter.integer_digits + (meter.fractional_digits or 0)
        score *= 1.0 if n == want else 0.6
    kind = "drum" if any(c.box.red for c in cells) or "light" in seg.notes[0] else "unknown"
    tight = _tight_window(d, tuple(cells), kind, score, w.source)
    return Candidate(tight, d, seg, tuple(cells), tuple(digits), fs, score, digit_h)


def _polarity(seg: Segmentation) -> str:
    return "light" if "polarity=light" in seg.notes else "dark"


def evaluate_windows(
    decoded: DecodedImage, windows: list[Window], classifier: DigitClassifier, meter: MeterSpec | None
) -> list[Candidate]:
    """Deskew and segment every proposed window, classify all their cells in one model call, and score."""
    staged = []
    crops: list[np.ndarray] = []
    for w in windows:
        # room on both sides so segmentation can recover end digits the proposal missed
        grow = 0.05 if w.source.startswith("rect") else 0.9
        wide = Window(expand_quad(w.quad, grow, grow), w.kind, w.score, w.source)
        d = deskew(decoded, wide, STRIP_HEIGHT)
        for polarity in ("dark", "light"):
            seg = segment(d.image, polarity)
            boxes = [b for b in seg.boxes if b.x1 > 0 and b.x0 < d.image.shape[1]]
            if len(boxes) < 2:
                continue
            staged.append((w, d, seg, boxes, len(crops)))
            crops.extend(_crop(d.image, b) for b in boxes)
    guesses = classifier.classify(crops) if crops else []
    out = []
    for w, d, seg, boxes, start in staged:
        c = _candidate(w, d, seg, [Cell(b, g) for b, g in zip(boxes, guesses[start : start + len(boxes)])], meter)
        if c is not None:
            out.append(c)
    out.sort(key=lambda c: -c.score)
    return out


def _overlaps(a: Window, b: Window) -> bool:
    ax0, ay0 = a.quad.min(axis=0)
    ax1, ay1 = a.quad.max(axis=0)
    bx0, by0 = b.quad.min(axis=0)
    bx1, by1 = b.quad.max(axis=0)
    return min(ax1, bx1) > max(ax0, bx0) and min(ay1, by1) > max(ay0, by0)


def pick_registers(cands: list[Candidate]) -> list[Candidate]:
    """The best row, plus a second register (day/night counters) when one looks just like it."""
    if not cands:
        return []
    best = cands[0]
    chosen = [best]
    for c in cands[1:]:
        if len(chosen) == 2:
            break
        if (
            c.score >= 0.8 * best.score
            and len(c.digits) == len(best.digits)
            and abs(c.digit_height - best.digit_height) <= 0.2 * best.digit_height
            and not any(_overlaps(c.window, k.window) for k in chosen)
        ):
            chosen.append(c)
    chosen.sort(key=lambda c: float(c.window.quad[:, 1].mean()))
    return chosen


def read_photo(
    source,
    *,
    previous: str | None = None,
    previous_date: date | None = None,
    photo_date: date | None = None,
    meter: MeterSpec | None = None,
    config: RecognizerConfig | None = None,
    with_images: bool = False,
    classifier: DigitClassifier | None = None,
) -> ReadResult:
    """Read one photo (bytes or path). Raises ImageError for what is not a readable photo."""
    config = config or RecognizerConfig()
    classifier = classifier or default_classifier()
    t0 = time.perf_counter()
    stages: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        stages[name] = round((now - since) * 1000, 2)
        return now

    # Decode the photo (reduced size, EXIF orientation applied)
    decoded = decode(source, config.decode)
    t = lap("decode", t0)
    # Propose digit rows on a small copy
    proposals = propose_windows(decoded, LocateConfig())
    t = lap("locate", t)
    # Deskew, segment and classify every proposal; the best-scoring row is the reading
    cands = evaluate_windows(decoded, proposals, classifier, meter)
    t = lap("classify", t)
    chosen = pick_registers(cands)
    window_px = chosen[0].window.quad * decoded.scale if chosen else None
    quality = assess_quality(decoded.image, window_px)
    t = lap("quality", t)

    if not chosen:
        reason = "No digit window was found: photograph the counter straight on so it fills a third of the frame."
        if quality.problems:
            reason = " ".join(p.message for p in quality.problems if p.message)
        result = ReadResult(
            status="rejected", reading=None, confidence=0.0, registers=(), reason=reason,
            elapsed_ms=(time.perf_counter() - t0) * 1000, quality=_quality_dicts(quality), stages_ms=stages,
            engine=config.engine,
        )
        return _with_images(result, decoded, proposals, [], with_images)

    registers = []
    for c in chosen:
        digits = list(c.digits)
        if c is chosen[0]:
            digits = plausibility.choose_rolling(digits, c.frac_start, previous)
        reading = _reading(digits, c.frac_start)
        conf = float(np.prod([d.confidence for d in digits]))
        registers.append(Register(reading, conf, tuple(digits), tuple(map(tuple, c.window.quad.tolist())), c.window.kind))
    main = registers[0]
    plaus = plausibility.check(
        main.reading, previous, previous_date=previous_date, photo_date=photo_date,
        max_per_day=config.max_per_day, max_consumption_no_dates=config.max_consumption_no_dates,
    )
    confidence = min(r.confidence for r in registers)
    status, reason = _judge(main, confidence, quality, plaus, meter, config)
    result = ReadResult(
        status=status, reading=main.reading, confidence=confidence, registers=tuple(registers), reason=reason,
        elapsed_ms=(time.perf_counter() - t0) * 1000, quality=_quality_dicts(quality), plausibility=plaus,
        engine=config.engine, stages_ms=stages,
    )
    return _with_images(result, decoded, proposals, chosen, with_images)


def _reading(digits: list[DigitRead], frac_start: int) -> str:
    s = "".join(d.value for d in digits[:frac_start])
    if frac_start < len(digits):
        s += "." + "".join(d.value for d in digits[frac_start:])
    return s


def _judge(main: Register, confidence, quality, plaus, meter: MeterSpec | None, config: RecognizerConfig):
    if any(d.value == "?" for d in main.digits):
        return "needs_review", "Some digits could not be read."
    if meter and meter.integer_digits is not None:
        n_int = sum(not d.fractional for d in main.digits)
        if n_int != meter.integer_digits:
            return "needs_review", f"Read {n_int} integer digits; this meter has {meter.integer_digits}."
    if plaus is not None and not plaus.ok:
        return "needs_review", plaus.reason
    if quality.problems:
        return "needs_review", " ".join(p.message for p in quality.problems if p.message)
    if len(main.digits) < 3:
        return "needs_review", "Too few digits were found for a meter reading."
    if confidence < config.accept_threshold:
        unsure = [i + 1 for i, d in enumerate(main.digits) if d.confidence < 0.9]
        where = f" (digit {', '.join(map(str, unsure))})" if unsure else ""
        return "needs_review", f"Not sure of the reading{where}: please check it."
    return "accepted", None


def _quality_dicts(q) -> tuple[dict, ...]:
    return tuple({"name": c.name, "value": c.value, "ok": c.ok, "message": c.message} for c in q.checks)


def _with_images(result: ReadResult, decoded, proposals, chosen, with_images: bool) -> ReadResult:
    if not with_images:
        return result
    from dataclasses import replace

    from .debug import crop_png, debug_png

    images = {"debug": debug_png(decoded, proposals, chosen, result)}
    if chosen:
        images["crop"] = crop_png(decoded, chosen[0])
    return replace(result, images=images)
