"""The synthetic renderer: deterministic by seed, labels consistent with the photo."""
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # synth/ is a top-level folder of the checkout

from synth.meters import RenderConfig, encode_jpeg, photo_seed, render_dataset, render_meter  # noqa: E402

SEEDS = range(24)


def test_same_seed_same_photo_and_label():
    a, la = render_meter(photo_seed(3, 1))
    b, lb = render_meter(photo_seed(3, 1))
    assert np.array_equal(a, b)
    assert la == lb
    c, lc = render_meter(photo_seed(3, 2))
    assert not np.array_equal(a, c) or la != lc


def test_integer_seed_is_deterministic():
    assert np.array_equal(render_meter(5)[0], render_meter(5)[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_label_consistent(seed):
    img, label = render_meter(photo_seed(11, seed))
    h, w = img.shape[:2]
    assert (w, h) == label.size and img.dtype == np.uint8 and img.shape[2] == 3
    registers = label.reading.split("+")
    assert len(registers) == len(label.registers) >= 1
    for text, reg in zip(registers, label.registers):
        assert text == reg["reading"]
        q = np.asarray(reg["window"])
        assert q.shape == (4, 2)
        assert (q[:, 0] >= 0).all() and (q[:, 0] <= w).all() and (q[:, 1] >= 0).all() and (q[:, 1] <= h).all()
        assert cv2.contourArea(q.astype(np.float32)) > 500  # a real window, corners in tl,tr,br,bl order
        assert q[0, 0] < q[1, 0] and q[3, 0] < q[2, 0] and q[0, 1] < q[3, 1] and q[1, 1] < q[2, 1]
        digits = text.replace(".", "")
        assert digits.isdigit() and len(digits) == reg["digits"]
        assert text.count(".") <= 1
        frac = len(text.split(".")[1]) if "." in text else 0
        assert frac == reg["fractional"] and frac <= 3 and len(digits) - frac >= 3
    assert 4 <= label.digits <= 8
    assert label.kind in ("drum", "lcd") and label.source == f"synthetic-{label.kind}"
    x, y, bw, bh = label.bbox
    assert 0 <= x and 0 <= y and x + bw <= w + 1 and y + bh <= h + 1 and bw > bh > 5


def test_window_region_differs_from_its_surroundings():
    """The labelled window holds the digits: it has more contrast than a random patch of background would."""
    for i in range(6):
        img, label = render_meter(photo_seed(2, i), RenderConfig(glare_p=0, blur_p=0))
        x, y, w, h = label.bbox
        win = cv2.cvtColor(img[y : y + h, x : x + w], cv2.COLOR_BGR2GRAY)
        assert win.std() > 15


def test_mix_of_kinds():
    labels = [render_meter(photo_seed(0, i))[1] for i in range(40)]
    kinds = {l.kind for l in labels}
    assert kinds == {"drum", "lcd"}
    assert any(l.fractional for l in labels) and any(l.red_fraction for l in labels)


def test_render_dataset_writes_labels_and_corners(tmp_path):
    rows = render_dataset(tmp_path, 4, seed=9, quality=80)
    with open(tmp_path / "labels.csv") as fh:
        labels = list(csv.DictReader(fh))
    assert list(labels[0].keys()) == ["file", "reading", "meter_kind", "window", "source"]
    corners = [json.loads(line) for line in (tmp_path / "corners.jsonl").read_text().splitlines()]
    assert len(labels) == len(corners) == len(rows) == 4
    for lab, cor in zip(labels, corners):
        assert lab["file"] == cor["file"] and lab["reading"] == cor["reading"]
        img = cv2.imread(str(tmp_path / lab["file"]))
        assert img is not None and img.shape[1::-1] == tuple(cor["size"])
        x, y, w, h = map(int, lab["window"].split(","))
        q = np.asarray(cor["window"])
        assert abs(q[:, 0].min() - x) <= 1 and abs(q[:, 1].max() - (y + h)) <= 1
    again = tmp_path / "again"
    render_dataset(again, 4, seed=9, quality=80)
    assert (again / "labels.csv").read_text() == (tmp_path / "labels.csv").read_text()
    assert all((again / r["file"]).read_bytes() == (tmp_path / r["file"]).read_bytes() for r in labels)


def test_without_ttf_fonts():
    img, label = render_meter(1, RenderConfig(use_ttf_fonts=False))
    assert img.size and label.reading


def test_encode_jpeg_roundtrip():
    img, _ = render_meter(0)
    data = encode_jpeg(img, 85)
    assert data[:2] == b"\xff\xd8"
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == img.shape


HARD = dict(ladder_drums_p=1.0, band_window_p=0.5, small_meter_p=0.5, tilt3d_p=0.5, scene_bg_p=1.0, face_decor_p=1.0)


def test_hard_options_off_leave_photos_unchanged():
    """The detector's harder variety defaults off and then draws nothing: every seed renders as before."""
    off = RenderConfig(**{k: 0.0 for k in HARD})
    for i in range(3):
        a, la = render_meter(photo_seed(7, i))
        b, lb = render_meter(photo_seed(7, i), off)
        assert np.array_equal(a, b) and la == lb


@pytest.mark.parametrize("seed", range(8))
def test_hard_options_render_consistent_labels(seed):
    cfg = RenderConfig(**HARD)
    img, label = render_meter(photo_seed(13, seed), cfg)
    again, label2 = render_meter(photo_seed(13, seed), cfg)
    assert np.array_equal(img, again) and label == label2
    h, w = img.shape[:2]
    assert (w, h) == label.size
    for reg in label.registers:
        q = np.asarray(reg["window"], np.float32)
        assert (q >= 0).all() and (q[:, 0] <= w).all() and (q[:, 1] <= h).all()
        assert cv2.contourArea(q) > 60
    x, y, bw, bh = label.bbox
    win = cv2.cvtColor(img[y : y + bh, x : x + bw], cv2.COLOR_BGR2GRAY)
    assert win.std() > 5  # digits on drums: not a flat patch
