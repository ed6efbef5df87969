"""The detector's training masks mark exactly the rendered windows, on the detector's output grid."""
import cv2
import numpy as np

from recognizer.detector import INPUT_LONG, OUTPUT_STRIDE
from synth.meters import RenderConfig, photo_seed, render_meter
from training.render_windows import render_one


def test_mask_covers_the_window_and_nothing_else():
    cfg = RenderConfig(dual_register_p=0.0)
    for i in range(4):
        photo, mask = render_one(photo_seed(5, i), cfg)
        _, label = render_meter(photo_seed(5, i), cfg)
        assert photo.shape == (INPUT_LONG, INPUT_LONG, 3)
        assert mask.shape == (INPUT_LONG // OUTPUT_STRIDE,) * 2 and set(np.unique(mask)) <= {0, 1}
        f = INPUT_LONG / max(label.size) / OUTPUT_STRIDE
        quad = np.array(label.window, np.float32) * f
        area, edge = cv2.contourArea(quad), cv2.arcLength(quad, True)
        # every cell the quad touches is marked: its area plus at most a ring of cells along its edge
        assert area <= mask.sum() <= area + edge + 4
        ys, xs = np.nonzero(mask)
        cx, cy = quad.mean(axis=0)
        assert abs(xs.mean() + 0.5 - cx) < 2 and abs(ys.mean() + 0.5 - cy) < 2
