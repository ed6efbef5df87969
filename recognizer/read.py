"""Runs the stages in order: decode, locate, deskew, read each strip, place the fraction, choose the row, judge."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import cv2
import numpy as np

from pipeline.decode import decode
from pipeline.dials import DialReading, face_up, find_dials, order_dials
from pipeline.deskew import deskew, expand_quad, to_original
from pipeline.locate import LocateConfig, propose_windows, row_evidence, windows_from_heatmap
from pipeline.quality import assess_quality
from pipeline.segment import find_point, red_drums, red_shares
from pipeline.types import DecodedImage, DigitBox, Deskewed, Window

from . import plausibility
from .config import MeterSpec, RecognizerConfig
from .detector import default_detector
from .reader import DEFAULT_MODEL, LineRead, LineReader, default_reader
from .result import DigitRead, ReadResult, Register

STRIP_HEIGHT = 48  # deskewed strips are this tall; the line reader scales them to 32 rows
ROW_GROW = 1.0  # a digit-row proposal is widened by this many of its heights on each side: end digits it missed
LENGTH_PRIOR = {2: 0.25, 3: 0.55, 4: 0.85, 5: 1.0, 6: 1.0, 7: 1.0, 8: 1.0}
POINT_ALONE = 0.3  # probability of an un-emitted "." that makes it a point by itself
POINT_WITH_SHAPE = 0.02  # ... or with a point-shaped blob in the same gap
POINT_FOUND_CONFIDENCE = 0.97  # such a point: on the pump photos these are as often right as emitted ones
PEER_POINT_CONFIDENCE = 0.9  # a point another crop of the window saw
POINT_SHAPE_ONLY = 0.5  # a point-shaped blob the reader saw nothing in: the fraction boundary is in doubt
LEADING_ZERO = 1.1  # score factor of a row that starts with a confident zero
POINT_AFTER_ZEROS = 0.8  # point confidence factor where leading zeros stand before the point
FRAME_DIGIT_SHARE = 0.15  # digit height taken for a band of the whole photo, as a share of the band
DIAL_TILT_MIN = 0.09  # sine of the counter's tilt (5 degrees) from which a turned face is tried for the dials
RED_CORE = 0.35  # half-width of the span a digit's red is measured on, in digit pitches (centre to centre)
RECT_GROW = 0.35  # a window-frame proposal holds the window, give or take its edge
# The second look: the best strips are read again cut closer above and below. A row proposal built from
# drum cells or a frame is often twice the digits' height, and the reader, trained on strips the digits
# mostly fill, reads such a strip poorly (toloka-water: 02212377 loose, 00414676 at 65% of its height).
REFINE_TOP = 4
AREA_SOURCES = ("rect", "net")  # proposals of a whole area (a window frame, a detector's mask), not a digit row
FALLBACK_SOURCES = ("frame", "net")  # proposals that may win but say nothing against another reading
# a detector area is wider and taller than its digits (its mask covers the window): its height overstates
# the digits', so its reading wins only over rows that read clearly worse
NET_SCORE = 0.8
REFINE_KEEP = (0.2, 0.82)  # the rows of the strip the closer crop keeps, as shares of its height
ROW_QUAD_PER_DIGIT = 1.44  # a digit row's quad is this many times its digits' height (locate: _row_quad's pad_y)
LARGER_ROW = 1.3  # a row whose digits are this many times the chosen ones' height ...
UNREAD_LARGER_ROW = 0.5  # ... and that read as nothing: confidence factor
TURNABLE = frozenset("0125689")  # seven-segment digits that read as digits turned over (6 and 9 swap)
UPSIDE_DOWN_HINT = 0.5  # a window read turned over this surely, with a point, has the whole photo read turned over
UPSIDE_DOWN_KEEP = 0.9  # ... whose reading replaces the upright one where its confidence is above this share of it
SIDEWAYS_ASK = 0.5  # an upright read less sure than this has the photo checked for digits lying on their side
SIDEWAYS_MARGIN = 1.2  # ... and read turned by a quarter where its rows are this much stronger turned


@dataclass(frozen=True)
class Candidate:
    window: Window  # tight quad around the digits, original pixels
    deskewed: Deskewed
    boxes: tuple[DigitBox, ...]  # one per digit, in deskewed pixels
    digits: tuple[DigitRead, ...]
    frac_start: int
    score: float
    digit_height: float  # original pixels
    point_confidence: float = 1.0  # of the decimal point / fraction boundary, when one was read

    @property
    def reading(self) -> str:
        return _reading(list(self.digits), self.frac_start)


def _tight_window(d: Deskewed, boxes: tuple[DigitBox, ...], kind: str, score: float, source: str) -> Window:
    x0 = min(b.x0 for b in boxes)
    x1 = max(b.x1 for b in boxes)
    y0 = min(b.y0 for b in boxes)
    y1 = max(b.y1 for b in boxes)
    quad = to_original(d, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32))
    return Window(quad=quad.astype(np.float32), kind=kind, score=score, source=source)


def _quad_size(q: np.ndarray) -> tuple[float, float]:
    """(width, height) of a (tl, tr, br, bl) quad: the means of its opposite sides."""
    return (float((np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2),
            float((np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2))


def _wheel_neighbours(a: str, b: str | None) -> bool:
    return b is not None and a.isdigit() and b.isdigit() and (int(a) - int(b)) % 10 in (1, 9)


def _wheel_pair(a: str, b: str) -> tuple[str, str]:
    """(lower, upper) of two neighbouring digits on the wheel: 9 and 0 give ("9", "0")."""
    lower = a if (int(b) - int(a)) % 10 == 1 else b
    return lower, str((int(lower) + 1) % 10)


def candidate_from_line(
    w: Window, d: Deskewed, line: LineRead, meter: MeterSpec | None, digit_h: float | None = None
) -> Candidate | None:
    """Turn one strip's line read into a scored candidate reading. ``digit_h`` (original pixels) when it is
    known better than the proposal's height tells (a closer crop of a strip already read)."""
    chars = list(line.chars)
    while chars and chars[0].char == ".":
        chars.pop(0)
    while chars and chars[-1].char == ".":
        chars.pop()
    digits_c = [c for c in chars if c.char != "."]
    n = len(digits_c)
    if n < 2:
        return None
    H, W = d.image.shape[:2]
    half = 0.3 * H  # CTC spans are a few frames wide: a digit's cell reaches about this far around its centre
    spans = []
    centres = [(c.x0 + c.x1) / 2 for c in digits_c]
    for c, cx in zip(digits_c, centres):
        spans.append((int(max(0, min(c.x0, cx - half))), int(min(W, max(c.x1, cx + half)))))
    # red is measured on each digit's own cell only: a digit's box may reach into its neighbour's (a strip
    # cut loosely around drums of a water meter), and the integer drum next to the red ones, or a last drum
    # beside a red rim or label, then counts as red and moves the fraction boundary
    core = min(half, RED_CORE * float(np.median(np.diff(centres))))
    reds = red_drums(red_shares(d.image, [(int(cx - core), int(cx + core) + 1) for cx in centres], int(0.2 * H), int(0.8 * H)))
    boxes = [DigitBox(x0, int(0.1 * H), x1, int(0.9 * H), red=r) for (x0, x1), r in zip(spans, reds)]
    # the fraction: a point the reader saw, else red drums at the right end, else the meter's spec
    points = [i for i, c in enumerate(chars) if c.char == "."]
    point_conf = 1.0
    fs = n
    if points:
        fs = sum(1 for c in chars[: points[0]] if c.char != ".")
        point_conf = float(np.prod([chars[i].confidence for i in points]))
        if len(points) > 1:
            point_conf *= 0.5  # two points: at most one is real
    else:
        k = n
        while k > 0 and boxes[k - 1].red:
            k -= 1
        if 0 < k < n and n - k <= 4:
            fs = k
        else:
            # a point the reader did not emit, though it gave it some probability: small LCD points are
            # easy to miss. Sure enough on its own, or where a point-shaped blob stands in that very gap
            gaps = [c.point_after for c in digits_c[:-1]]
            i = int(np.argmax(gaps)) if gaps else 0
            p_dot = gaps[i] if gaps else 0.0
            shape = find_point(d.image, [(c.x0 + c.x1) / 2 for c in digits_c]) if p_dot < POINT_ALONE else None
            if shape is not None and gaps[shape] >= POINT_WITH_SHAPE:
                i, p_dot = shape, gaps[shape]
            if p_dot >= POINT_ALONE or (shape == i and p_dot >= POINT_WITH_SHAPE):
                fs = i + 1
                point_conf = max(p_dot, POINT_FOUND_CONFIDENCE)
            else:
                # no point, though there may be one: the reader gave it some weight, or a blob looks like one.
                # Not where the row starts with a sure zero: leading zeros are a drum counter's, and a blob
                # between two drums that the reader saw nothing in is the gap between them
                drum_zeros = digits_c[0].char == "0" and digits_c[0].confidence >= 0.9
                point_conf = min(1.0 - p_dot, POINT_SHAPE_ONLY if shape is not None and not drum_zeros else 1.0)
    if 2 <= fs < n and digits_c[0].char == "0" and not boxes[fs].red:
        # leading zeros are a drum counter's, whose fraction is red drums, not a point; a display that
        # shows both exists, but a gap between two drums read as a point is the likelier story
        point_conf *= POINT_AFTER_ZEROS
    if meter is not None and meter.fractional_digits is not None:
        fs = max(0, n - meter.fractional_digits)
    digits = []
    for i, c in enumerate(digits_c):
        rolling = _wheel_neighbours(c.char, c.alternative) and c.alternative_p > 0.3
        value, alt = c.char, c.alternative if rolling else None
        if rolling:
            lower, upper = _wheel_pair(value, alt)
            if i + 1 < n:
                # a drum between d and d+1 has reached d+1 only once its right neighbour has wrapped past 0
                value = upper if int(digits_c[i + 1].char) <= 4 else lower
            else:
                value = lower  # the last drum turns all the time: it shows the digit it is leaving
            alt = upper if value == lower else lower
        digits.append(DigitRead(value, c.confidence, i >= fs, rolling, alt))
    q = w.quad
    quad_h = _quad_size(q)[1]
    if digit_h is None and w.source.startswith("frame"):
        # the band of the whole photo says nothing of the digits' size: scored as digits of a middling
        # size, so that it wins only where no row or window reads well
        digit_h = FRAME_DIGIT_SHARE * quad_h
    elif digit_h is None:
        digit_h = quad_h / (ROW_QUAD_PER_DIGIT if w.source.startswith(("dark", "light")) else 1.3)
    mean_conf = float(np.mean([x.confidence for x in digits]))
    # the reading is usually the longest row of the largest, clearest digits on the face: 4 to 8 of them,
    # often with red fractional drums; 2 or 3 sure digits are more often a rating or a model number
    score = mean_conf**2 * LENGTH_PRIOR.get(n, 0.8) * digit_h**0.5
    if any(b.red for b in boxes[1:]) and not boxes[0].red:
        score *= 1.2
    if w.source.startswith("net"):
        score *= NET_SCORE
    # counters show their leading zeros, serial and model numbers seldom start with one (``0.57``, a single
    # zero before a point, is a price or a rate)
    if n >= 4 and digits[0].value == "0" and digits[0].confidence >= 0.9 and fs >= 2:
        score *= LEADING_ZERO
    if meter is not None and meter.integer_digits is not None:
        want = meter.integer_digits + (meter.fractional_digits or 0)
        score *= 1.0 if n == want else 0.6
    kind = "drum" if any(b.red for b in boxes) else "unknown"
    tight = _tight_window(d, tuple(boxes), kind, score, w.source)
    return Candidate(tight, d, tuple(boxes), tuple(digits), fs, score, digit_h, point_conf)


def strips_for(decoded: DecodedImage, windows: list[Window]) -> list[Deskewed]:
    """Each proposal widened (rows may have missed end digits) and deskewed to a strip."""
    out = []
    for w in windows:
        grow = RECT_GROW if w.source.startswith(AREA_SOURCES) else ROW_GROW
        vgrow = 0.06 if w.source.startswith(AREA_SOURCES) or w.source.endswith("/pair") else 0.2
        if w.source.startswith("frame"):
            grow = vgrow = 0.0
        wide = Window(expand_quad(w.quad, grow, grow, vgrow, vgrow), w.kind, w.score, w.source)
        out.append(deskew(decoded, wide, STRIP_HEIGHT))
    return out


def evaluate_windows(
    decoded: DecodedImage, windows: list[Window], reader, meter: MeterSpec | None, closer: bool = True
) -> list[Candidate]:
    """Deskew every proposed window, read all the strips in one model call, and score them; with
    ``closer``, take the second look (:func:`second_look`) too."""
    strips = strips_for(decoded, windows)
    lines = reader.read([d.image for d in strips]) if strips else []
    out = [c for w, d, line in zip(windows, strips, lines) if (c := candidate_from_line(w, d, line, meter)) is not None]
    out.sort(key=lambda c: -c.score)
    return second_look(decoded, out, reader, meter) if closer else out


def second_look(decoded: DecodedImage, cands: list[Candidate], reader, meter: MeterSpec | None) -> list[Candidate]:
    """The best digit rows read again, closer: the same digits, so the same digit height. Rows only: a
    frame's or a band's strip is cut to the window already (their closer crops won 1 photo of 482, wrongly)."""
    top = [c for c in cands if c.window.source.startswith(("dark", "light"))][:REFINE_TOP]
    if not top:
        return cands
    out = list(cands)
    close = [closer_strip(decoded, c.deskewed) for c in top]
    for c, d, line in zip(top, close, reader.read([d.image for d in close])):
        if (c2 := candidate_from_line(d.window, d, line, meter, digit_h=c.digit_height)) is not None:
            out.append(c2)
    out.sort(key=lambda c: -c.score)
    return out


def closer_strip(decoded: DecodedImage, d: Deskewed, keep: tuple[float, float] = REFINE_KEEP) -> Deskewed:
    """The strip ``d`` cut to the rows ``keep`` (shares of its height), deskewed again from the photo."""
    H, W = d.image.shape[:2]
    pts = np.array([[0, keep[0] * H], [W, keep[0] * H], [W, keep[1] * H], [0, keep[1] * H]], np.float32)
    w = d.window
    return deskew(decoded, Window(to_original(d, pts).astype(np.float32), w.kind, w.score, w.source + "/close"), STRIP_HEIGHT)


def _overlaps(a: Window, b: Window) -> bool:
    ax0, ay0 = a.quad.min(axis=0)
    ax1, ay1 = a.quad.max(axis=0)
    bx0, by0 = b.quad.min(axis=0)
    bx1, by1 = b.quad.max(axis=0)
    return min(ax1, bx1) > max(ax0, bx0) and min(ay1, by1) > max(ay0, by0)


def _digits_of(c: Candidate) -> str:
    return "".join(d.value for d in c.digits)


def _common_run(a: str, b: str) -> int:
    """Length of the longest run of characters that ``a`` and ``b`` share."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


def whole_row(best: Candidate, cands: list[Candidate]) -> Candidate:
    """A crop may catch only part of a counter (``10.432`` of ``13710.432``): where another crop over the
    same place reads more digits, among them ``best``'s in order (all but one, which the longer crop may have
    cut at its end), surely and nearly as well, the longer read is the counter."""
    mine = _digits_of(best)
    longer = [
        c for c in cands
        if len(c.digits) > len(best.digits) and len(c.digits) <= 8 and not c.window.source.startswith(FALLBACK_SOURCES)
        and _common_run(mine, _digits_of(c)) >= max(3, len(mine) - 1)
        and c.score >= 0.75 * best.score and _area_inside(best.window.quad, c.deskewed.window.quad) >= 0.6
        and min(d.confidence for d in c.digits) >= 0.6
    ]
    return max(longer, key=lambda c: c.score) if longer else best


def pick_registers(cands: list[Candidate]) -> list[Candidate]:
    """The best row, plus a second register (day/night counters) when one looks just like it."""
    if not cands:
        return []
    best = cands[0]
    if best.window.source.startswith(FALLBACK_SOURCES):
        # a band's or a detector area's reading, also read from a row or a frame of its own: that crop has
        # the tighter window and the surer digit height (the detector may mark two counters as one area)
        best = next((c for c in cands if _digits_of(c) == _digits_of(best)
                     and not c.window.source.startswith(FALLBACK_SOURCES)), best)
    best = whole_row(best, cands)
    chosen = [best]
    for c in cands:
        if len(chosen) == 2:
            break
        if c is best:
            continue
        # heights are estimated from the proposal: a frame's is less certain than a digit row's
        tolerance = 0.5 if any(w.source.startswith(AREA_SOURCES) for w in (c.window, best.window)) else 0.2
        if (
            c.score >= 0.7 * best.score
            and len(c.digits) == len(best.digits)
            and abs(c.digit_height - best.digit_height) <= tolerance * best.digit_height
            and not any(_overlaps(c.window, k.window) for k in chosen)
        ):
            chosen.append(c)
    chosen.sort(key=lambda c: float(c.window.quad[:, 1].mean()))
    return chosen


def _point_from_peers(c: Candidate, cands: list[Candidate]) -> Candidate:
    """Other proposals of the same window read the same digits from another crop; where the chosen one saw
    no point and one of them did, take its point (the crops differ in margin and scale, not in the meter)."""
    if c.frac_start < len(c.digits):
        return c
    values = _digits_of(c)
    # a closer crop cuts through the drums' edges, which the reader may take for a point: it lends none
    peers = [
        p for p in cands
        if p is not c and _digits_of(p) == values and p.frac_start < len(p.digits)
        and not p.window.source.endswith("/close")
    ]
    if not peers:
        return c
    p = max(peers, key=lambda p: p.point_confidence)
    digits = tuple(DigitRead(d.value, d.confidence, i >= p.frac_start, d.rolling, d.alternative) for i, d in enumerate(c.digits))
    return replace(c, digits=digits, frac_start=p.frac_start, point_confidence=p.point_confidence * PEER_POINT_CONFIDENCE)


def _area_inside(inner: np.ndarray, outer: np.ndarray) -> float:
    """Share of the convex quad ``inner`` that lies inside the convex quad ``outer``."""
    a = float(cv2.contourArea(inner.astype(np.float32)))
    if a <= 0:
        return 0.0
    inter, _ = cv2.intersectConvexConvex(inner.astype(np.float32), outer.astype(np.float32))
    return float(inter) / a


def is_rival(c: Candidate, best: Candidate) -> bool:
    """Does ``c`` read against ``best``? Another row elsewhere on the face does, and so does a crop that saw
    all of ``best``'s digits and read them otherwise; a crop that saw only part of them (its edge cuts
    through the window) reads fewer digits without saying anything against the chosen ones."""
    if _area_inside(best.window.quad, c.window.quad) < 0.05 and _area_inside(c.window.quad, best.window.quad) < 0.05:
        return True  # elsewhere
    return _area_inside(best.window.quad, c.deskewed.window.quad) >= 0.9


def part_of(c: Candidate, whole: Candidate) -> bool:
    """Did ``c`` read a run of ``whole``'s digits, in order, with no fraction boundary of its own elsewhere?
    A crop cut through the window reads ``238.0`` of ``238.00`` or ``30.03`` of ``230.03``: it lost end
    digits and says nothing against the others. A point where ``whole`` has none (``17.0`` of ``1707``), or
    at another digit, reads another value."""
    part, full = _digits_of(c), _digits_of(whole)
    if len(part) >= len(full):
        return False
    has_point = c.frac_start < len(c.digits)
    start = full.find(part)
    while start >= 0:
        if not has_point or (whole.frac_start < len(whole.digits) and start + c.frac_start == whole.frac_start):
            return True
        start = full.find(part, start + 1)
    return False


def window_certainty(cands: list[Candidate], chosen: list[Candidate]) -> float:
    """1 when no other candidate comes close to the chosen row's score with other digits, less as one does."""
    best = chosen[0]
    mine = {_digits_of(c) for c in chosen}
    # a band of the whole photo is a fallback for close-ups: it reads the window's digits among everything
    # else in the band, and says nothing against a row read on its own; nor does a detector area, which
    # also marks printed words and parts of a window. A crop that read part of the chosen digits agrees.
    rival = max(
        (c.score for c in cands
         if _digits_of(c) not in mine and not c.window.source.startswith(FALLBACK_SOURCES) and is_rival(c, best)
         and not any(part_of(c, k) for k in chosen)),
        default=0.0,
    )
    ratio = min(1.0, rival / best.score) if best.score > 0 else 1.0
    return 1.0 - ratio**3


def unread_larger_row(proposals: list[Window], cands: list[Candidate], best: Candidate) -> bool:
    """Is there a row of digit-shaped blobs, several digits long and with digits clearly larger than the
    chosen ones, elsewhere on the face, from which no reading came? Counters are set in the largest digits
    on a face; a serial number read surely while the counter's drums read as nothing (a drum window the
    reader could not make out) is the wrong window, and only a person can tell. A row of red-pointer dials
    (hubs and pointers make blobs of a row) also counts: it costs the acceptance of sure reads on such water
    meters, never a wrong one."""
    for w in proposals:
        src = w.source
        if not src.startswith(("dark", "light")) or src.endswith("/pair"):
            continue  # rows only: their height is the digits'
        q = w.quad
        width, quad_h = _quad_size(q)
        height = quad_h / ROW_QUAD_PER_DIGIT
        if height < LARGER_ROW * best.digit_height or width < 3 * height:
            continue
        if _area_inside(q, best.window.quad) >= 0.05 or _area_inside(best.window.quad, q) >= 0.05:
            continue  # the chosen window itself, or a crop around it
        if any(_area_inside(c.window.quad, q) >= 0.5 for c in cands):
            continue  # something was read from it
        return True
    return False


def engine_reader(config: RecognizerConfig):
    """The line reader of the configured engine ("auto" reads with the CNN and asks Tesseract when unsure)."""
    if config.engine == "tesseract":
        from .tesseract_engine import TesseractLineReader

        return TesseractLineReader()
    if Path(config.reader_model).resolve() != DEFAULT_MODEL.resolve():
        return _readers.setdefault(str(config.reader_model), LineReader(config.reader_model))
    return default_reader()


_readers: dict[str, LineReader] = {}  # other models than the shipped one (evaluations, cross-validation)


def read_photo(
    source,
    *,
    previous: str | None = None,
    previous_date: date | None = None,
    photo_date: date | None = None,
    meter: MeterSpec | None = None,
    config: RecognizerConfig | None = None,
    with_images: bool = False,
    reader=None,
) -> ReadResult:
    """Read one photo (bytes or path). Raises ImageError for what is not a readable photo."""
    config = config or RecognizerConfig()
    reader = reader or engine_reader(config)
    t0 = time.perf_counter()
    # Decode the photo (reduced size, EXIF orientation applied)
    decoded = decode(source, config.decode)
    decode_ms = round((time.perf_counter() - t0) * 1000, 2)
    context = dict(previous=previous, previous_date=previous_date, photo_date=photo_date, meter=meter, config=config,
                   with_images=with_images, reader=reader)
    result, turned_hint = _read_decoded(decoded, check_turned=config.check_upside_down, **context)
    if turned_hint >= UPSIDE_DOWN_HINT:
        # the chosen window, read turned over, shows a point the upright read lacks: a photo taken upside down
        # (seven-segment 0, 1, 2, 5, 6/9, 8 read as digits either way up: 59.00 upside down reads 0065)
        t = time.perf_counter()
        turned, _ = _read_decoded(_turned(decoded, 180), check_turned=False, **context)
        # as sure as the window's turned read had to be, and about as sure as the upright read or surer (an
        # unsure upright read swapped for an unsure turned one only changes which wrong reading is shown)
        if turned.confidence >= UPSIDE_DOWN_HINT and turned.confidence > UPSIDE_DOWN_KEEP * result.confidence:
            stages = {**turned.stages_ms, "decode": decode_ms}
            result = replace(_turned_back(turned, decoded.original_size, 180), stages_ms=stages)
        result.stages_ms["turned"] = round((time.perf_counter() - t) * 1000, 2)
    if config.check_sideways and not result.turned and result.confidence < SIDEWAYS_ASK:
        t = time.perf_counter()
        upright, lying = row_evidence(decoded)
        if lying > SIDEWAYS_MARGIN * upright:
            # digits lying on their side, in rows running up or down the photo: taken sideways, its
            # orientation tag lost on the way. Read turned a quarter each way: the two reads are upside down
            # to each other, and seven-segment 0 1 2 5 6/9 8 read surely either way up, so a read whose
            # window reads turned over with the point it lacks is the upside-down one; the surer of the rest
            for quarter in (90, 270):
                side, upside_down = _read_decoded(_turned(decoded, quarter), check_turned=True, **context)
                if upside_down >= UPSIDE_DOWN_HINT:
                    continue
                # only a sure read replaces the upright one: an unsure upright read of an upright photo is
                # better shown to a reviewer than a stranger, unsure reading of the photo turned
                if side.confidence >= config.accept_threshold and side.confidence > result.confidence:
                    result = _turned_back(side, decoded.original_size, quarter)
        result.stages_ms["sideways"] = round((time.perf_counter() - t) * 1000, 2)
    result.stages_ms["decode"] = decode_ms
    return replace(result, elapsed_ms=(time.perf_counter() - t0) * 1000)


_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def _turned(decoded: DecodedImage, degrees: int) -> DecodedImage:
    """The decoded photo turned ``degrees`` (90, 180 or 270) clockwise, read-only like every decoded photo;
    a quarter turn swaps its size as displayed."""
    image = cv2.rotate(decoded.image, _ROTATE[degrees])
    image.setflags(write=False)
    w, h = decoded.original_size
    return replace(decoded, image=image, original_size=(w, h) if degrees == 180 else (h, w))


def _turned_back(result: ReadResult, size: tuple[int, int], degrees: int) -> ReadResult:
    """A result read on the photo turned ``degrees`` clockwise, marked so, its windows in the photo's own
    pixels (``size`` its width and height; corners still in reading order: the first is the counter's top
    left as it reads)."""
    w, h = size
    to_photo = {
        90: lambda x, y: (y, h - x),  # turned clockwise: (x', y') = (h - y, x)
        180: lambda x, y: (w - x, h - y),
        270: lambda x, y: (w - y, x),  # counter-clockwise: (x', y') = (y, w - x)
    }[degrees]

    def back(quad):
        return tuple(tuple(round(v, 1) for v in to_photo(x, y)) for x, y in quad) if quad else quad

    return replace(result, registers=tuple(replace(r, window=back(r.window)) for r in result.registers),
                   turned=True, rotation=degrees)


def _read_decoded(
    decoded: DecodedImage,
    *,
    previous: str | None,
    previous_date: date | None,
    photo_date: date | None,
    meter: MeterSpec | None,
    config: RecognizerConfig,
    with_images: bool,
    reader,
    check_turned: bool,
) -> tuple[ReadResult, float]:
    """Every stage after decoding; and, with ``check_turned``, how surely the chosen window reads turned
    over with a point where it has none upright (:func:`turned_over_hint`), 0 when not asked or not so."""
    t0 = time.perf_counter()
    stages: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        stages[name] = round((now - since) * 1000, 2)
        return now

    t = t0
    # Propose digit rows on a small copy
    proposals = propose_windows(decoded, LocateConfig())
    t = lap("locate", t)
    # Deskew every proposal and read it as a line; the best-scoring row is the reading
    cands = evaluate_windows(decoded, proposals, reader, meter, closer=False)
    chosen = [_point_from_peers(c, cands) for c in pick_registers(cands)]
    if not _sure(cands, chosen, config):
        # the second look, only where the first read nothing sure
        cands = second_look(decoded, cands, reader, meter)
        chosen = [_point_from_peers(c, cands) for c in pick_registers(cands)]
    t = lap("read", t)
    if config.detector and not _sure(cands, chosen, config) and (det := default_detector()).available():
        # the window detector is asked only when the rows, frames and bands read nothing sure: where they
        # do, its areas (scored below them, never a rival) changed the reading of none of these photos
        prob, cells_per_px = det.heatmap(decoded.image)
        net = windows_from_heatmap(decoded, prob, cells_per_px)
        proposals += net
        cands = sorted(cands + evaluate_windows(decoded, net, reader, meter, closer=False), key=lambda c: -c.score)
        chosen = [_point_from_peers(c, cands) for c in pick_registers(cands)]
        t = lap("detect", t)
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
        return _with_images(result, decoded, proposals, [], with_images), 0.0

    dial_read = None
    if config.read_dials and chosen[0].frac_start == len(chosen[0].digits):
        # no red drums, no point: the fraction may be on red-pointer dials
        dial_read = read_dials(decoded, chosen[0].window.quad)
        if dial_read is not None and (len(dial_read.dials) < 3 or dial_read.confidence < config.min_dial_confidence):
            dial_read = None
    t = lap("dials", t)

    registers = []
    for c in chosen:
        digits = list(c.digits)
        if c is chosen[0] and dial_read is not None:
            digits = _with_dials(digits, dial_read)
        if c is chosen[0]:
            digits = plausibility.choose_rolling(digits, c.frac_start, previous)
        reading = _reading(digits, c.frac_start)
        conf = float(np.prod([d.confidence for d in digits])) * c.point_confidence
        if config.engine == "auto" and conf < config.accept_threshold:
            conf = _second_opinion(c, digits, conf)
        registers.append(Register(reading, conf, tuple(digits), tuple(map(tuple, c.window.quad.tolist())), c.window.kind))
    main = registers[0]
    plaus = plausibility.check(
        main.reading, previous, previous_date=previous_date, photo_date=photo_date,
        max_per_day=config.max_per_day, max_consumption_no_dates=config.max_consumption_no_dates,
    )
    # another row that reads differently and scores nearly as well: the window itself is in doubt; so it is
    # where a clearly larger row of digit-shaped blobs elsewhere on the face read as nothing at all
    confidence = min(r.confidence for r in registers) * window_certainty(cands, chosen)
    larger_unread = unread_larger_row(proposals, cands, chosen[0])
    if larger_unread:
        confidence *= UNREAD_LARGER_ROW
    status, reason = _judge(main, confidence, quality, plaus, meter, config, larger_unread=larger_unread)
    result = ReadResult(
        status=status, reading=main.reading, confidence=confidence, registers=tuple(registers), reason=reason,
        elapsed_ms=(time.perf_counter() - t0) * 1000, quality=_quality_dicts(quality), plausibility=plaus,
        engine=config.engine, stages_ms=stages,
    )
    hint = turned_over_hint(decoded, chosen[0], reader, meter, confidence >= config.accept_threshold) if check_turned else 0.0
    return _with_images(result, decoded, proposals, chosen, with_images), hint


def turned_over_hint(decoded: DecodedImage, best: Candidate, reader, meter: MeterSpec | None, sure: bool) -> float:
    """How surely ``best``'s window reads turned over by 180 degrees with a decimal point in it, where that
    says something against the upright read; 0 otherwise.

    Seven-segment 0, 1, 2, 5, 6/9 and 8 read as digits either way up (``59.00`` upside down reads ``0065``),
    3, 4 and 7 do not: a read with one of those is taken to be the right way up, and costs nothing more. A
    display's point sits at the foot of its digits, so upside down at their top, where the reader was never
    shown one: an upright read without a point (nor red drums) whose window turned over reads one is the
    likelier upside-down photo; so is a sure upright read with a point whose window turned over reads, with
    a point too, more surely still (a mark by the top of upside-down digits read as a point: ``1.0812`` for
    ``218.01``). A point read both ways up is not enough by itself: asked that of every read, 9 of the 482
    upright photos of ../shared/data/photos were turned over, wrongly; a surer turned read of an unsure
    upright one turned 4, one of them then accepted."""
    if not set(_digits_of(best)) <= TURNABLE:
        return 0.0
    pointed = best.frac_start < len(best.digits)
    if pointed and not sure:
        return 0.0
    w = best.deskewed.window
    turned = Window(np.roll(w.quad, 2, axis=0), w.kind, w.score, w.source)
    d = deskew(decoded, turned, best.deskewed.image.shape[0])
    c = candidate_from_line(turned, d, reader.read([d.image])[0], meter, digit_h=best.digit_height)
    if c is None or c.frac_start >= len(c.digits):
        return 0.0
    conf = float(np.prod([x.confidence for x in c.digits])) * c.point_confidence
    own = float(np.prod([x.confidence for x in best.digits])) * best.point_confidence
    return 0.0 if pointed and conf <= own else conf


def _sure(cands: list[Candidate], chosen: list[Candidate], config: RecognizerConfig) -> bool:
    """Would these candidates be accepted on their confidence alone (before dials and plausibility)?"""
    if not chosen:
        return False
    conf = min(float(np.prod([d.confidence for d in c.digits])) * c.point_confidence for c in chosen)
    return conf * window_certainty(cands, chosen) >= config.accept_threshold


def read_dials(decoded: DecodedImage, window_quad: np.ndarray) -> DialReading | None:
    """The dials read with the photo's up and, where the counter is tilted in the photo, with the up square
    to the counter (a face photographed at an angle): the reading whose dials agree better with each other."""
    reads = [order_dials(find_dials(decoded, window_quad))]
    tilted = face_up(window_quad)
    if abs(tilted[0]) > DIAL_TILT_MIN:
        reads.append(order_dials(find_dials(decoded, window_quad, up=tilted)))
    reads = [r for r in reads if r is not None]
    return max(reads, key=lambda r: (len(r.dials) >= 3, r.confidence)) if reads else None


def _with_dials(digits: list[DigitRead], dials: DialReading) -> list[DigitRead]:
    """Drum digits, then one fractional digit per dial. The x0.1 dial also settles a rolling last drum:
    past half a turn the drum is leaving its digit, before that it has just arrived."""
    out = list(digits)
    last = out[-1]
    if last.rolling and last.alternative is not None:
        lower, upper = _wheel_pair(last.value, last.alternative)
        value = lower if dials.first >= 5 else upper
        out[-1] = DigitRead(value, last.confidence, False, True, upper if value == lower else lower)
    per = dials.confidence ** (1 / len(dials.dials))
    return out + [DigitRead(ch, per, True) for ch in dials.digits]


def _second_opinion(c: Candidate, digits: list[DigitRead], conf: float) -> float:
    """Tesseract reads the chosen strip too; where it reads the very same digits, the doubt shrinks."""
    from .tesseract_engine import TesseractLineReader, available

    if not available():
        return conf
    other = TesseractLineReader().read([c.deskewed.image])[0]
    if other.text and other.text == "".join(d.value for d in digits):
        return 1.0 - (1.0 - conf) * (1.0 - other.confidence)
    return conf


def _reading(digits: list[DigitRead], frac_start: int) -> str:
    s = "".join(d.value for d in digits[:frac_start])
    if frac_start < len(digits):
        s += "." + "".join(d.value for d in digits[frac_start:])
    return s


LARGER_UNREAD_REASON = (
    "Larger digits elsewhere on the meter could not be read: please check that this is the counter, "
    "not a serial number."
)


def _judge(main: Register, confidence, quality, plaus, meter: MeterSpec | None, config: RecognizerConfig,
           larger_unread: bool = False):
    if any(d.value == "?" for d in main.digits):
        return "needs_review", "Some digits could not be read."
    if meter and meter.integer_digits is not None:
        n_int = sum(not d.fractional for d in main.digits)
        if n_int != meter.integer_digits:
            return "needs_review", f"Read {n_int} integer digits; this meter has {meter.integer_digits}."
    if plaus is not None and not plaus.ok:
        return "needs_review", plaus.reason
    blocking = [p for p in quality.problems if p.name not in config.advisory_checks]
    if blocking:
        return "needs_review", " ".join(p.message for p in blocking if p.message)
    if len(main.digits) < 3:
        return "needs_review", "Too few digits were found for a meter reading."
    if confidence < config.accept_threshold:
        if quality.problems:  # advisory ones: the likelier reason the reading is unsure
            return "needs_review", " ".join(p.message for p in quality.problems if p.message)
        unsure = [i + 1 for i, d in enumerate(main.digits) if d.confidence < 0.9]
        if larger_unread and not unsure:  # the digits are sure; the window is what is in doubt
            return "needs_review", LARGER_UNREAD_REASON
        where = f" (digit {', '.join(map(str, unsure))})" if unsure else ""
        return "needs_review", f"Not sure of the reading{where}: please check it."
    return "accepted", None


def _quality_dicts(q) -> tuple[dict, ...]:
    return tuple({"name": c.name, "value": c.value, "ok": c.ok, "message": c.message} for c in q.checks)


def _with_images(result: ReadResult, decoded, proposals, chosen, with_images: bool) -> ReadResult:
    if not with_images:
        return result

    from .debug import crop_png, debug_jpeg

    images = {"debug": debug_jpeg(decoded, proposals, chosen, result)}
    if chosen:
        images["crop"] = crop_png(decoded, chosen[0])
    return replace(result, images=images)
