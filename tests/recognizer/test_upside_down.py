"""Photos taken upside down: seven-segment digits read as digits either way up, so an upside-down display
must be recognised as such, not read surely as another number."""
from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from recognizer import cli, read_photo
from recognizer.config import RecognizerConfig
from recognizer.evaluate import turned_photo

SEGMENTS = {"0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "6": "acdefg",
            "7": "abc", "8": "abcdefg", "9": "abcdfg"}


def seven_segment_photo(text: str, digit_h: int = 90) -> np.ndarray:
    """A 640x480 photo of a seven-segment display showing ``text`` (digits and a '.'), upright, centred."""
    ink, panel = (40, 45, 40), (170, 190, 175)
    w_d, t, gap = int(digit_h * 0.55), max(3, digit_h // 9), int(digit_h * 0.25)
    width = sum(c != "." for c in text) * (w_d + gap) + 2 * gap
    img = np.full((480, 640, 3), (120, 120, 125), np.uint8)
    x, y0 = (640 - width) // 2, (480 - digit_h) // 2
    cv2.rectangle(img, (x - gap, y0 - gap), (x + width, y0 + digit_h + gap), panel, -1)
    h2 = digit_h // 2
    for c in text:
        if c == ".":  # at the foot of the digits, in the gap before the next one
            cv2.rectangle(img, (x - gap // 2 - t // 2 - 2, y0 + digit_h - t), (x - gap // 2 + t // 2 + 2, y0 + digit_h), ink, -1)
            continue
        segs = {
            "a": ((x + t, y0), (x + w_d - t, y0 + t)),
            "b": ((x + w_d - t, y0 + t), (x + w_d, y0 + h2 - t // 2)),
            "c": ((x + w_d - t, y0 + h2 + t // 2), (x + w_d, y0 + digit_h - t)),
            "d": ((x + t, y0 + digit_h - t), (x + w_d - t, y0 + digit_h)),
            "e": ((x, y0 + h2 + t // 2), (x + t, y0 + digit_h - t)),
            "f": ((x, y0 + t), (x + t, y0 + h2 - t // 2)),
            "g": ((x + t, y0 + h2 - t // 2), (x + w_d - t, y0 + h2 + t // 2)),
        }
        for s in SEGMENTS[c]:
            cv2.rectangle(img, *segs[s], ink, -1)
        x += w_d + gap
    return img


def png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", img)[1].tobytes()


@pytest.mark.parametrize("text", ["59.00", "52.01", "125.50"])
def test_an_upside_down_display_is_read_the_right_way_up(text):
    img = seven_segment_photo(text)
    upright = read_photo(png(img))
    assert (upright.reading, upright.status, upright.turned) == (text, "accepted", False)
    down = png(cv2.rotate(img, cv2.ROTATE_180))
    # without the check, the turned-over digits read as another number, and surely (59.00 -> 0065)
    unchecked = read_photo(down, config=RecognizerConfig(check_upside_down=False))
    assert unchecked.reading != text
    result = read_photo(down)
    assert (result.reading, result.status, result.turned) == (text, "accepted", True)
    assert result.to_dict()["turned"] is True
    # the window is given in the photo's own pixels: about where the display is upside down
    up_centre = np.mean(upright.window, axis=0)
    assert np.allclose(np.mean(result.window, axis=0), (640 - up_centre[0], 480 - up_centre[1]), atol=12)
    assert result.images == {} and "turned" in result.stages_ms


def test_the_turned_read_carries_its_images_the_right_way_up():
    result = read_photo(png(cv2.rotate(seven_segment_photo("59.00"), cv2.ROTATE_180)), with_images=True)
    crop = cv2.imdecode(np.frombuffer(result.images["crop"], np.uint8), cv2.IMREAD_COLOR)
    assert result.turned and crop.shape[1] > 2 * crop.shape[0]
    again = read_photo(result.images["crop"])  # the crop shows the display upright: it reads as the photo did
    assert again.reading == "59.00" and not again.turned


def test_what_puts_a_read_in_doubt_of_being_upside_down(monkeypatch):
    import recognizer.read as read

    asked = []
    real = read.turned_over_hint
    monkeypatch.setattr(read, "turned_over_hint", lambda *a: asked.append(1) or real(*a))
    assert read_photo(png(seven_segment_photo("59.00"))).reading == "59.00"
    assert asked == [1]

    def hint(data: bytes, sure: bool = True) -> float:
        return real(read.decode(data), _chosen(data), read.default_reader(), None, sure)

    up, down = png(seven_segment_photo("59.00")), png(cv2.rotate(seven_segment_photo("59.00"), cv2.ROTATE_180))
    assert hint(up) == 0.0  # turned over it reads 0065: no point, nothing against 59.00
    # a read without a point whose window reads with one turned over: the photo is read turned over
    assert _chosen(down).reading == "0065"
    assert hint(down) > 0.9 and hint(down, sure=False) > 0.9
    # 3, 4 and 7 are no digits upside down: such a read is the right way up, and is not read again
    other = png(seven_segment_photo("47.30"))
    chosen = {data: _chosen(data) for data in (other, up)}
    calls = []
    monkeypatch.setattr(read, "deskew", lambda *a, **k: calls.append(1))
    assert real(read.decode(other), chosen[other], read.default_reader(), None, True) == 0.0
    # an unsure read with a point is not asked either: it waits for a person whichever way up it is
    assert real(read.decode(up), chosen[up], read.default_reader(), None, False) == 0.0
    assert calls == []


def _chosen(data: bytes):
    import recognizer.read as read

    decoded = read.decode(data)
    cands = read.evaluate_windows(decoded, read.propose_windows(decoded), read.default_reader(), None)
    return read.pick_registers(cands)[0]


def test_turned_photo_turns_clockwise_and_drops_exif(tmp_path):
    img = np.zeros((40, 100, 3), np.uint8)
    img[:, :10] = 255  # a white band on the left
    path = tmp_path / "p.png"
    cv2.imwrite(str(path), img)
    out = cv2.imdecode(np.frombuffer(turned_photo(path, 90), np.uint8), cv2.IMREAD_COLOR)
    assert out.shape[:2] == (100, 40) and out[:10].mean() > 200 and out[-10:].mean() < 30  # left went to the top
    out = cv2.imdecode(np.frombuffer(turned_photo(path.read_bytes(), 180), np.uint8), cv2.IMREAD_COLOR)
    assert out.shape[:2] == (40, 100) and out[:, -10:].mean() > 200


def test_eval_turn_reads_every_photo_turned(tmp_path, capsys):
    cv2.imwrite(str(tmp_path / "a.png"), seven_segment_photo("59.00"))
    with open(tmp_path / "labels.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "reading", "meter_kind", "window", "source"])
        w.writerow(["a.png", "59", "fuel", "200,150,240,180", "seven"])
    out = tmp_path / "rows.jsonl"
    assert cli.main(["eval", str(tmp_path / "labels.csv"), "--workers", "1", "--turn", "180", "--out", str(out)]) == 0
    row = json.loads(out.read_text().splitlines()[0])
    assert row["turned"] is True and row["reading"] == "59.00" and row["score"]["int_exact"] is True


@pytest.mark.parametrize("text", ["59.00", "347.25"])
@pytest.mark.parametrize("quarter", [90, 270])
def test_a_sideways_display_is_read_turned_a_quarter(text, quarter):
    """Taken sideways, its orientation tag lost: digits lying on their side are read turned a quarter, the
    right quarter (the other one is the display upside down), with the window in the photo's own pixels."""
    img = seven_segment_photo(text)
    upright = read_photo(png(img))
    code = cv2.ROTATE_90_CLOCKWISE if quarter == 90 else cv2.ROTATE_90_COUNTERCLOCKWISE
    side = png(cv2.rotate(img, code))  # a 480x640 photo showing the display lying on its side
    unchecked = read_photo(side, config=RecognizerConfig(check_sideways=False))
    assert unchecked.status != "accepted"
    result = read_photo(side)
    # the photo was turned `quarter` degrees clockwise from upright: it is read turned back the other way
    assert (result.reading, result.status, result.turned, result.rotation) == (text, "accepted", True, 360 - quarter)
    assert result.to_dict()["rotation"] == 360 - quarter and "sideways" in result.stages_ms
    ux, uy = np.mean(upright.window, axis=0)
    want = (480 - uy, ux) if quarter == 90 else (uy, 640 - ux)
    assert np.allclose(np.mean(result.window, axis=0), want, atol=12)


def test_an_upright_photo_is_not_read_sideways():
    result = read_photo(png(seven_segment_photo("347.25")))
    assert result.rotation == 0 and "sideways" not in result.stages_ms
