"""The speed benchmark's own logic: what it takes as a general OCR's reading, how it scores, and a short run."""
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("bench_pipeline", ROOT / "bench" / "bench_pipeline.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["bench_pipeline"] = bench
spec.loader.exec_module(bench)


def test_prominent_number_is_the_tallest_text_with_digits():
    items = [(12.0, "SN 4471203"), (40.0, "0041,67"), (55.0, "m3"), (30.0, "1")]
    assert bench.prominent_number(items) == "0041.67"
    assert bench.prominent_number([(10.0, "kWh"), (9.0, "7")]) is None
    assert bench.prominent_number([]) is None


def test_accuracy_counts_labelled_photos_only_and_rounded_labels_apart():
    labels = [{"reading": "00414.676"}, {"reading": "23"}, {"reading": ""}, None]
    acc = bench.accuracy("x", ["00414.7", "22.54", "999", None], labels)
    assert acc["n"] == 2
    assert acc["int_exact"] == 0.5  # 00414 right, 22 is not 23
    assert acc["int_rounded"] == 1.0  # 22.54 rounds to the label's 23


def test_short_run_on_the_sample_images_prints_every_figure(capsys):
    assert bench.main([str(ROOT / "sample_images"), "--limit", "3", "--no-phone", "--worker-rounds", "1"]) == 0
    out = capsys.readouterr().out
    assert "read_photo (cnn)" in out and "x read_photo" in out
    assert "accuracy on the 3 labelled photos" in out
    assert "a fresh worker process" in out and "peak RSS" in out
