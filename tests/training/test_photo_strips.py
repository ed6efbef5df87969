"""The self-training step keeps a photo crop only when the photo's label confirms what the crop shows."""
from training.photo_strips import target_for
from recognizer.evaluate import fold_of


def test_label_confirms_the_integer_part_and_keeps_the_read_fraction():
    assert target_for("33.01", "33", lcd=True) == "33.01"
    assert target_for("00414", "00414.676", lcd=False) == "00414"


def test_red_fraction_without_a_point_matches_the_whole_label():
    assert target_for("00414676", "00414.676", lcd=False) == "00414676"


def test_rounded_label_confirms_the_displayed_value():
    assert target_for("22.54", "23", lcd=True) == "22.54"
    # rounding down by more than half a unit is not rounding
    assert target_for("22.34", "23", lcd=True) is None


def test_missed_lcd_point_is_put_back_only_on_lcds():
    assert target_for("3400", "34", lcd=True) == "34.00"
    assert target_for("3400", "34", lcd=False) is None


def test_lost_or_extra_leading_one():
    assert target_for("75.00", "175", lcd=True) == "175.00"
    assert target_for("160.00", "60", lcd=True) == "60.00"


def test_unconfirmed_reads_are_left_out():
    assert target_for("12345", "67", lcd=True) is None  # another row
    assert target_for("221.01", "227", lcd=True) is None  # a misread the label does not explain
    assert target_for("", "12", lcd=True) is None
    assert target_for("1.2.3", "1", lcd=True) is None


def test_folds_are_stable_and_cover_all():
    names = [f"photo_{i}.jpg" for i in range(200)]
    folds = [fold_of(n, 2) for n in names]
    assert folds == [fold_of(n, 2) for n in names]
    assert 60 < sum(folds) < 140
    assert fold_of("fuel-lcd/HQ_digital/0c1979be441eb95a6f1c7aaba65edeefda5412a9.jpg", 2) in (0, 1)
