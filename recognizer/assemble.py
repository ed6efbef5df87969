"""From classified digit cells to a reading: trim non-digits, fractional boundary, rolling digits."""
from __future__ import annotations

from dataclasses import dataclass

from pipeline.types import DigitBox, Segmentation

from .classifier import DigitGuess
from .result import DigitRead


@dataclass(frozen=True)
class Cell:
    box: DigitBox
    guess: DigitGuess


def is_digit(g: DigitGuess, min_conf: float = 0.35) -> bool:
    return g.value >= 0 and g.not_digit < 0.5 and (g.confidence + (0.0 if not g.rolling else 0.25)) >= min_conf


def trim(cells: list[Cell]) -> list[Cell]:
    """Drop cells at either end that hold no digit (frame, unit text, empty space)."""
    lo, hi = 0, len(cells)
    while lo < hi and not is_digit(cells[lo].guess):
        lo += 1
    while hi > lo and not is_digit(cells[hi - 1].guess):
        hi -= 1
    return cells[lo:hi]


def fractional_start(cells: list[Cell], seg: Segmentation, spec_fraction: int | None) -> int:
    """Index of the first fractional digit (len(cells) when there is none)."""
    n = len(cells)
    if spec_fraction is not None:
        return max(0, n - spec_fraction)
    # red drums at the right end carry the fraction
    k = n
    while k > 0 and cells[k - 1].box.red:
        k -= 1
    if 0 < k < n and n - k <= 4:
        return k
    if seg.point_after is not None:
        # point_after indexes the segmentation's boxes; map to the trimmed cells
        last_int = seg.boxes[seg.point_after]
        for i, c in enumerate(cells):
            if c.box == last_int:
                return i + 1
    return n


def _settled(g: DigitGuess) -> tuple[int, int | None]:
    """(lower, upper) candidates of a digit: upper is None when it is not rolling."""
    if not g.rolling or g.neighbour is None:
        return g.value, None
    a, b = g.value, g.neighbour
    # order along the wheel: the lower is the one the drum is leaving
    lower = a if (b - a) % 10 == 1 else b
    return lower, (lower + 1) % 10


def resolve(cells: list[Cell]) -> list[DigitRead]:
    """Digits with rolling ones decided by their right neighbour, as a drum counter carries.

    A drum between d and d+1 has already passed d+1 only when its right neighbour has wrapped past 0;
    if the right neighbour is still in the upper half of its turn, the drum reads d.
    """
    out: list[DigitRead] = []
    for i, c in enumerate(cells):
        g = c.guess
        if g.value < 0:
            out.append(DigitRead("?", 0.0, False))
            continue
        lower, upper = _settled(g)
        if upper is None:
            out.append(DigitRead(str(g.value), float(g.confidence), False))
            continue
        p_pair = float(g.probs[lower] + g.probs[upper])
        if i + 1 < len(cells) and cells[i + 1].guess.value >= 0:
            right = cells[i + 1].guess.position
            value = upper if right < 5.0 else lower
            # sure when the right neighbour is clearly on one side of its turn
            margin = abs(right - 5.0) / 5.0
            out.append(DigitRead(str(value), p_pair * (0.6 + 0.4 * margin), False, rolling=True,
                                 alternative=str(lower if value == upper else upper)))
        else:
            # the last drum turns continuously: read the digit it is leaving, as the meter counts
            out.append(DigitRead(str(lower), p_pair * 0.8, False, rolling=True, alternative=str(upper)))
    return out
