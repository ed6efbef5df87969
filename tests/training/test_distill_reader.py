"""Distilling the line reader: the harvest keeps each strip the pipeline reads once, the jitter keeps a strip a
strip, the scores compare readings, and the loss is zero where the student already matches the teacher."""
import numpy as np
import pytest

from recognizer.reader import CharRead, LineRead
from training.distill_reader import agreement, jitter, macs_per_column, photo_split
from training.harvest_strips import RecordingReader, pack, unpack


class _Echo:
    def __init__(self):
        self.calls = []

    def read(self, strips):
        self.calls.append(len(strips))
        return [LineRead(str(int(s[0, 0, 0])), (), 1.0) for s in strips]


def _strip(v, w=20):
    return np.full((48, w, 3), v, np.uint8)


def test_recording_reader_keeps_each_strip_once_and_answers_in_order():
    inner = _Echo()
    rec = RecordingReader(inner)
    assert [r.text for r in rec.read([_strip(1), _strip(2), _strip(1)])] == ["1", "2", "1"]
    rec.tag = 1
    assert [r.text for r in rec.read([_strip(2), _strip(3)])] == ["2", "3"]
    assert inner.calls == [3, 1]  # the repeated strip is not read again
    assert len(rec.strips) == 3 and rec.tags == [0, 0, 1]


def test_pack_unpack_round_trip():
    strips = [_strip(1, 10), _strip(7, 33), np.arange(48 * 5 * 3, dtype=np.uint8).reshape(48, 5, 3)]
    flat, shapes = pack(strips)
    back = unpack(flat, shapes)
    assert all(np.array_equal(a, b) for a, b in zip(strips, back))


def test_jitter_keeps_the_height_and_roughly_the_width():
    rng = np.random.default_rng(0)
    s = np.random.default_rng(1).integers(0, 255, (48, 160, 3)).astype(np.uint8)
    for _ in range(20):
        j = jitter(s, rng)
        assert j.dtype == np.uint8 and j.shape[0] == 48 and j.shape[2] == 3
        assert 0.75 * 160 < j.shape[1] < 1.3 * 160


def test_agreement_counts_same_strings_and_sure_strips():
    def line(text, p):
        return LineRead(text, tuple(CharRead(c, p, 0, 1) for c in text), p)

    teacher = [line("12", 0.99), line("34", 0.5), line("", 0.0), line("5", 0.95)]
    student = [line("12", 0.9), line("35", 0.9), line("", 0.0), line("6", 0.9)]
    a = agreement(teacher, student)
    assert a["strips"] == 4 and a["same_text"] == 0.5
    assert a["sure_strips"] == 2 and a["same_text_sure"] == 0.5


def test_split_is_by_photo():
    files = ["a.jpg", "b.jpg", "c.jpg"]
    held = photo_split(files, np.array([0, 0, 1, 2, 2]), folds=2, fold=0)
    assert held[0] == held[1] and held[3] == held[4]


def test_student_is_about_half_the_teacher():
    assert macs_per_column((16, 32, 64, 96), 96) < 0.6 * macs_per_column((24, 48, 96, 128), 128)


def test_distill_loss_is_zero_when_student_matches_teacher():
    torch = pytest.importorskip("torch")
    from training.distill_reader import distill_loss

    z = torch.randn(2, 8, 12)
    assert float(distill_loss(z, torch.log_softmax(z, -1))) == pytest.approx(0.0, abs=1e-5)
    assert float(distill_loss(z, torch.log_softmax(-z, -1))) > 0.1
