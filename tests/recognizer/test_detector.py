"""Window detector (recognizer/detector.py, models/detector.onnx): input contract, model card, and the
windows it marks on synthetic meter photos it was not trained on (seeds outside its training range)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.decode import decode
from pipeline.locate import _iou_box, windows_from_heatmap
from recognizer.detector import INPUT_LONG, MODEL, OUTPUT_STRIDE, default_detector, preprocess, to_input
from recognizer.onnx import sha256_file
from synth.meters import RenderConfig, encode_jpeg, render_meter


def test_input_is_a_padded_square_of_the_photo():
    img = np.zeros((300, 600, 3), np.uint8)
    img[:, :300] = 200
    sq, f = to_input(img)
    assert sq.shape == (INPUT_LONG, INPUT_LONG, 3) and f == pytest.approx(INPUT_LONG / 600)
    assert sq[10, 10, 0] == 200 and sq[10, INPUT_LONG - 10, 0] == 0
    assert (sq[INPUT_LONG - 1] == sq[INPUT_LONG // 2 - 1]).all()  # padding repeats the last row
    x = preprocess(sq[None])
    assert x.shape == (1, 3, INPUT_LONG, INPUT_LONG) and abs(float(x.mean())) < 1e-4


def test_model_file_and_card():
    assert MODEL.is_file() and MODEL.stat().st_size < 2 * 1024 * 1024
    card = json.loads(MODEL.with_suffix(".json").read_text())
    assert card["sha256"] == sha256_file(MODEL)
    assert card["input"]["shape"][1:] == [3, INPUT_LONG, INPUT_LONG]


def test_heatmap_grid():
    prob, cells_per_px = default_detector().heatmap(np.full((480, 640, 3), 90, np.uint8))
    assert prob.shape == (INPUT_LONG // OUTPUT_STRIDE,) * 2
    assert ((prob >= 0) & (prob <= 1)).all()
    assert cells_per_px == pytest.approx(INPUT_LONG / 640 / OUTPUT_STRIDE)


def test_detector_marks_the_window_on_unseen_synthetic_photos():
    cfg = RenderConfig(dual_register_p=0.0)
    hits = 0
    n = 20
    for i in range(n):
        photo, label = render_meter(np.random.SeedSequence([77, i]), cfg)  # training used seeds 1001, 1002
        d = decode(encode_jpeg(photo, label.jpeg_quality))
        prob, cpp = default_detector().heatmap(d.image)
        if any(_iou_box(w.quad, np.array(label.window)) > 0.5 for w in windows_from_heatmap(d, prob, cpp)):
            hits += 1
    assert hits >= 0.8 * n, hits
