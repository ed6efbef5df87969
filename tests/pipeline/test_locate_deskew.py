"""Locate and deskew on their own: synthetic meter photos with exact window corners."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.decode import decode
from pipeline.deskew import deskew, expand_quad, to_original
from pipeline.locate import Blob, _rows, propose_windows
from pipeline.types import DecodedImage, Window
from synth.meters import RenderConfig, encode_jpeg, render_meter


def _bbox_iou(a: np.ndarray, b: np.ndarray) -> float:
    ax0, ay0 = a.min(0)
    ax1, ay1 = a.max(0)
    bx0, by0 = b.min(0)
    bx1, by1 = b.max(0)
    iw, ih = max(0, min(ax1, bx1) - max(ax0, bx0)), max(0, min(ay1, by1) - max(ay0, by0))
    inter = iw * ih
    return inter / ((ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter)


@pytest.fixture(scope="module")
def rendered():
    cfg = RenderConfig(use_ttf_fonts=False, dual_register_p=0.0)
    return [render_meter(1000 + i, cfg) for i in range(24)]


def test_a_proposal_covers_the_true_window(rendered):
    hits = 0
    for photo, label in rendered:
        windows = propose_windows(decode(encode_jpeg(photo)))
        truth = np.array(label.window)
        # the true window overlaps some proposal (rows are proposed as tight digit rows; frames as a whole)
        if any(_bbox_iou(w.quad, truth) > 0.3 for w in windows):
            hits += 1
    assert hits >= 0.85 * len(rendered), hits


def test_proposals_are_quads_in_original_pixels(rendered):
    photo, _ = rendered[0]
    d = decode(encode_jpeg(photo))
    for w in propose_windows(d):
        assert w.quad.shape == (4, 2)
        assert (w.quad >= -0.5 * max(d.original_size)).all()
        assert (w.quad[:, 0] <= 1.5 * d.original_size[0]).all()


def test_blank_image_has_no_window():
    blank = DecodedImage(np.full((480, 640, 3), 128, np.uint8), (640, 480), 1.0, "PNG")
    assert propose_windows(blank) == []


def test_rows_follow_a_tilted_line_but_not_a_zigzag():
    tilted = [Blob(int(10 + 30 * i), int(100 + 18 * i), 20, 30) for i in range(5)]  # about 31 degrees
    assert [len(r) for r in _rows(tilted, 3)] == [5]
    zigzag = [Blob(10 + 30 * i, 100 + (18 if i % 2 else -18), 20, 30) for i in range(5)]
    assert all(len(r) < 5 for r in _rows(zigzag, 3))


def test_deskew_makes_a_tilted_rectangle_upright():
    img = np.zeros((400, 600, 3), np.uint8)
    quad = np.array([[100, 150], [500, 110], [508, 190], [108, 230]], np.float32)
    import cv2

    cv2.fillPoly(img, [quad.astype(np.int32)], (255, 255, 255))
    d = DecodedImage(img, (600, 400), 1.0, "PNG")
    out = deskew(d, Window(quad, "unknown"), 40)
    assert out.image.shape[0] == 40
    assert 150 <= out.image.shape[1] <= 250  # keeps the window's aspect (400 x 80)
    inner = out.image[4:-4, 4:-4]
    assert inner.mean() > 240  # all of it is the white window
    # corners map back to where they came from
    h, w = out.image.shape[:2]
    back = to_original(out, np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32))
    assert np.abs(back - quad).max() < 2.0


def test_deskew_at_reduced_decode_scale():
    img = np.zeros((200, 300, 3), np.uint8)
    d = DecodedImage(img, (600, 400), 0.5, "JPEG")  # decoded at half size
    quad = np.array([[100, 100], [500, 100], [500, 180], [100, 180]], np.float32)  # original pixels
    out = deskew(d, Window(quad, "unknown"), 40)
    pts = to_original(out, np.array([[0, 0]], np.float32))
    assert np.abs(pts[0] - quad[0]).max() < 2.0


def test_expand_quad_grows_along_its_axes():
    q = np.array([[0, 0], [100, 0], [100, 20], [0, 20]], np.float32)
    e = expand_quad(q, 1.0, 0.5, 0.1, 0.1)
    assert e[0].tolist() == pytest.approx([-20, -2])
    assert e[2].tolist() == pytest.approx([110, 22])


def test_component_stats_match_opencv():
    import cv2

    from pipeline.locate import component_stats

    rng = np.random.default_rng(3)
    for density in (0.0, 0.02, 0.3):
        ink = ((rng.random((90, 140)) < density) * 255).astype(np.uint8)
        ink[10:40, 20:30] = 255  # one solid bar among the speckle
        ink[50:80, 60:90] = 255
        ink[55:75, 65:85] = 0  # a frame ...
        ink[60:70, 70:75] = 255  # ... with a component in its hole
        _, _, ref, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        for lo, hi in ((0, 1e9), (5, 40)):
            want = ref[1:][(ref[1:, 3] >= lo) & (ref[1:, 3] <= hi)]
            got = component_stats(ink, lo, hi)
            assert np.array_equal(got[np.lexsort(got.T[::-1])], want[np.lexsort(want.T[::-1])])
    assert component_stats(np.zeros((5, 5), np.uint8)).shape == (0, 5)
    # more components than 16-bit labels hold (a mask of noise): all of them still, as OpenCV's own count
    dots = np.zeros((600, 900), np.uint8)
    dots[::2, ::2] = 255
    assert len(component_stats(dots)) == cv2.connectedComponentsWithStats(dots, connectivity=8)[0] - 1 == 135000


def test_rows_across_a_wider_separator_are_joined():
    from pipeline.locate import _joined_rows

    ints = [Blob(10 + 25 * i, 100, 18, 30) for i in range(5)]  # 5 integer drums, pitch 25
    fracs = [Blob(10 + 25 * 5 + 40 + 25 * i, 101, 18, 30) for i in range(3)]  # 3 red drums after a 47-px gap
    above = [Blob(10 + 25 * 5 + 40 + 25 * i, 20, 18, 30) for i in range(3)]  # same size, another line
    small = [Blob(10 + 25 * 5 + 40 + 15 * i, 108, 10, 14) for i in range(3)]  # "m3" sized text after it
    joined = _joined_rows([ints, fracs, above, small])
    assert joined == [ints + fracs]


def test_a_pair_of_digits_is_a_proposal_of_its_own():
    from pipeline.locate import _digit_pair

    assert _digit_pair(Blob(0, 0, 18, 30), Blob(24, 1, 17, 30))
    assert not _digit_pair(Blob(0, 0, 18, 30), Blob(80, 1, 17, 30))  # too far apart
    assert not _digit_pair(Blob(0, 0, 3, 30), Blob(24, 1, 17, 30))  # a bar and a digit
    assert not _digit_pair(Blob(0, 0, 40, 30), Blob(44, 1, 40, 30))  # wider than digits


def test_heatmap_areas_become_window_quads_in_original_pixels():
    import cv2

    from pipeline.locate import windows_from_heatmap

    # a 1000x800 photo decoded at half size; the heatmap has one cell per 4 decoded pixels
    d = DecodedImage(np.zeros((400, 500, 3), np.uint8), (1000, 800), 0.5, "JPEG")
    prob = np.zeros((100, 125), np.float32)
    box = cv2.boxPoints(((60.0, 40.0), (50.0, 10.0), 8.0))  # a counter turned by 8 degrees
    cv2.fillPoly(prob, [np.round(box).astype(np.int32)], 0.9)
    prob[80:82, 10:12] = 0.95  # a speck: too small
    prob[60:72, 100:112] = 0.9  # a square: not a digit window
    (w,) = windows_from_heatmap(d, prob, cells_per_px=0.25)
    assert w.source == "net"
    want = box / 0.25 / 0.5  # cells -> decoded pixels -> original pixels
    assert _bbox_iou(w.quad, want) > 0.8
    top_left, top_right = w.quad[0], w.quad[1]
    assert np.degrees(np.arctan2(top_right[1] - top_left[1], top_right[0] - top_left[0])) == pytest.approx(8, abs=3)
    assert windows_from_heatmap(d, np.zeros((100, 125), np.float32), 0.25) == []
