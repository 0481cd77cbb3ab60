"""One unit for every score a person reads: percent, one decimal, the half rounded up (as the papers)."""

import pytest

from mmeb.units import format_percent, format_percent_range, format_points


@pytest.mark.parametrize("fraction, text", [
    (0.4825, "48.3"),  # float formatting and round() give 48.2
    (0.0125, "1.3"),
    (0.99949, "99.9"),
    (0.9995, "100.0"),
    (1.0, "100.0"),
    (0.0, "0.0"),
    (0.48249999999, "48.2"),  # truly below the half
])
def test_fraction_to_percent_half_up(fraction, text):
    assert format_percent(fraction) == text


def test_points_half_up_including_float_noise_of_a_mean():
    assert f"{48.25:.1f}" == "48.2" and round(48.25, 1) == 48.2  # what this helper exists to avoid
    assert format_points(48.25) == "48.3"
    mean = (48.2 + 48.3) / 2  # 48.25 in decimal, 48.24999... in binary
    assert format_points(mean) == "48.3"
    assert format_points(39.25) == "39.3"


def test_missing_and_non_finite_values_print_the_placeholder():
    assert format_percent(None) == ""
    assert format_points(float("nan"), missing="-") == "-"
    assert format_percent(float("inf"), missing="—") == "—"


def test_ci_range():
    assert format_percent_range(0.4825, 0.5) == "48.3-50.0"
    assert format_percent_range(None, 0.5) == ""
