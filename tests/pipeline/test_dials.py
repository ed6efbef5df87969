"""Red-pointer dials: pointer angles on drawn dials, and the order the dials agree on."""
from __future__ import annotations

import math

import cv2
import pytest
import numpy as np

from pipeline.dials import Dial, find_dials, order_dials
from pipeline.types import DecodedImage


def _dial_face(values: list[float]) -> DecodedImage:
    img = np.full((480, 640, 3), 235, np.uint8)
    for k, v in enumerate(values):
        cx, cy = 110 + 140 * k, 260
        cv2.circle(img, (cx, cy), 55, (40, 40, 40), 2)
        a = v / 10 * 2 * math.pi  # clockwise from up
        tip = (int(cx + 45 * math.sin(a)), int(cy - 45 * math.cos(a)))
        cv2.circle(img, (cx, cy), 9, (30, 30, 200), -1)
        cv2.line(img, (cx, cy), tip, (30, 30, 200), 6)
    return DecodedImage(img, (640, 480), 1.0, "PNG")


def test_pointer_values_on_drawn_dials():
    values = [2.7, 7.4, 4.1, 1.5]
    found = sorted(find_dials(_dial_face(values)), key=lambda d: d.hub[0])
    assert len(found) == 4
    for d, v in zip(found, values):
        assert min(abs(d.value - v), 10 - abs(d.value - v)) < 0.4, (d.value, v)


def test_order_follows_the_carry():
    # x0.1 at 2.74, x0.01 at 7.4, x0.001 at 4.1, x0.0001 at 1: given in a scrambled order
    dials = [Dial((0, 0), (0, 0), v) for v in (4.1, 2.74, 1.0, 7.4)]
    r = order_dials(dials)
    assert r.digits == "2741"
    assert r.confidence > 0.8
    assert r.first == 2.74


def test_inconsistent_dials_are_unsure():
    dials = [Dial((0, 0), (0, 0), v) for v in (0.5, 5.5, 0.5)]  # each predicts the next badly
    assert order_dials(dials).confidence < 0.5


def test_fewer_than_two_dials_give_no_reading():
    assert order_dials([Dial((0, 0), (0, 0), 3.0)]) is None
    assert find_dials(DecodedImage(np.full((200, 300, 3), 128, np.uint8), (300, 200), 1.0, "PNG")) == []


def test_a_face_turned_in_the_photo_is_read_square_to_its_counter():
    from pipeline.dials import face_up

    values = [2.7, 7.4, 4.1, 1.5]
    d = _dial_face(values)
    turn = 30.0  # the photo taken with the phone turned: face, dials and counter turn together
    m = cv2.getRotationMatrix2D((320, 240), -turn, 1.0)  # clockwise on screen
    img = cv2.warpAffine(d.image, m, (640, 480), borderValue=(235, 235, 235))
    counter = cv2.transform(np.float32([[[200, 120], [440, 120], [440, 160], [200, 160]]]), m)[0]
    turned = DecodedImage(img, (640, 480), 1.0, "PNG")
    up = face_up(counter)
    assert math.degrees(math.atan2(up[0], -up[1])) == pytest.approx(turn, abs=1.0)
    square = sorted(find_dials(turned, up=up), key=lambda x: x.value)
    assert len(square) == 4
    for got, want in zip(square, sorted(values)):
        assert min(abs(got.value - want), 10 - abs(got.value - want)) < 0.4, (got.value, want)
    # read with the photo's up, every dial is a constant 30 degrees (0.83 of a digit) off
    plain = find_dials(turned)
    assert all(min(abs(p.value - s.value), 10 - abs(p.value - s.value)) > 0.6 for p, s in
               zip(sorted(plain, key=lambda x: x.hub), sorted(square, key=lambda x: x.hub)))

