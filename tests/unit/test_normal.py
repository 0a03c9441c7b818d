"""Standard normal CDF and PDF of OptionPricer (contracts/math/normal.vy) vs scipy and an exact reference.

Units: the argument x is a signed WAD; `norm_cdf_e36`/`norm_pdf_e36` return 1e36 fixed point,
`norm_cdf`/`norm_pdf` the same rounded to the nearest WAD.

Tolerances against scipy (`ref.norm_cdf` = `scipy.special.ndtr`): scipy itself is only good to
~1e-16 absolute and ~1e-14 relative in the tails (measured against the decimal reference:
1.5e-14 at x = -12, 2e-15 at x = -5.9), and x is handed to it as the nearest float of the WAD
integer, which moves Phi(x) by up to |x| * 2^-53 * |x| relative. So the scipy checks use the
brief's 1e-15 absolute / 1e-13 relative bounds, and the contract's own, much smaller, error is
measured against the 110-digit decimal reference (pricer_support.exact_cdf).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pricer_support import E36, WAD, d, exact_cdf, exact_pdf, fuzz

from dsi.reference import pricing as ref

# The range splits of Cody's approximation (normal.THRSH, normal.ROOT32) and the cut-off Z_MAX.
THRSH = 662_910_000_000_000_000
ROOT32 = 5_656_854_249_492_380_195
Z_MAX = 13 * WAD
# floor(1e36 / sqrt(2 pi)): normal.INV_SQRT_2PI_E36.
INV_SQRT_2PI_E36 = 398_942_280_401_432_677_939_946_059_934_381_868

CDF_ABS_TOL = 1e-15  # vs scipy, everywhere
CDF_REL_TOL = 1e-13  # vs scipy, wherever the probability is >= 1e-10
REL_FLOOR = 1e-10
# vs the float reference exp(-x^2/2)/sqrt(2 pi), itself a few ulps (1 ulp = 5.6e-17 at 0.4) off.
PDF_ABS_TOL = 1e-15


def _grid() -> list[int]:
    coarse = np.arange(0, 38.01, 0.5)
    fine = np.arange(0, 6.51, 0.1)  # where the tails still carry relative precision
    half = {int(round(v * WAD)) for v in np.concatenate([coarse, fine])}
    # Both sides of every range boundary of the approximation, to the wei.
    for edge in (THRSH, ROOT32, Z_MAX):
        half.update({edge - 1, edge, edge + 1})
    half.add(1)
    return sorted(half | {-x for x in half})  # symmetric, contains 0


GRID = _grid()


@pytest.fixture(scope="module")
def grid_values(pricer):
    """x -> (norm_cdf_e36(x), norm_pdf_e36(x)) on GRID (symmetric: -x is on it for every x)."""
    return {x: (pricer.norm_cdf_e36(x), pricer.norm_pdf_e36(x)) for x in GRID}


def _cdf_float(cdf_e36: int) -> float:
    return cdf_e36 / E36


def _upper_float(cdf_e36: int) -> float:
    """1 - Phi(x) from the E36 integer, without the float cancellation of 1 - cdf."""
    return (E36 - cdf_e36) / E36


def _assert_cdf_close_to_scipy(x_wad: int, cdf_e36: int):
    xf = x_wad / WAD
    expected = float(ref.norm_cdf(xf))
    got = _cdf_float(cdf_e36)
    assert abs(got - expected) <= CDF_ABS_TOL, (xf, got, expected)
    if expected >= REL_FLOOR:
        assert abs(got - expected) <= CDF_REL_TOL * expected, (xf, got, expected)
    # The complement carries the upper tail: 1 - Phi(x) = Phi(-x).
    upper_expected = float(ref.norm_cdf(-xf))
    if upper_expected >= REL_FLOOR:
        upper = _upper_float(cdf_e36)
        assert abs(upper - upper_expected) <= CDF_REL_TOL * upper_expected, (xf, upper, upper_expected)


# --------------------------------------------------------------------------- grid


def test_cdf_on_grid_matches_scipy_absolute_and_relative(grid_values):
    for x, (cdf, _) in grid_values.items():
        _assert_cdf_close_to_scipy(x, cdf)


def test_cdf_on_grid_is_symmetric_to_two_e36_units(grid_values):
    for x, (cdf, _) in grid_values.items():
        assert abs(cdf + grid_values[-x][0] - E36) <= 2, x


def test_cdf_on_grid_is_non_decreasing_across_range_boundaries(grid_values):
    values = [grid_values[x][0] for x in GRID]
    for i, (lo, hi) in enumerate(zip(values, values[1:])):
        assert lo <= hi, (GRID[i], GRID[i + 1], lo, hi)
    assert values[0] == 0 and values[-1] == E36


def test_cdf_on_grid_stays_within_unit_interval(grid_values):
    for x, (cdf, _) in grid_values.items():
        assert 0 <= cdf <= E36, x


def test_pdf_on_grid_matches_reference(grid_values):
    for x, (_, pdf) in grid_values.items():
        xf = x / WAD
        expected = float(ref.norm_pdf(xf))
        got = pdf / E36
        assert abs(got - expected) <= PDF_ABS_TOL, (xf, got, expected)
        # The float reference loses |x| * ulp(x^2/2) relative (x^2/2 ~ 84 at x = 13): 1e-13.
        if expected >= REL_FLOOR:
            assert abs(got - expected) <= 1e-13 * expected, (xf, got, expected)


def test_pdf_on_grid_is_even(grid_values):
    for x, (_, pdf) in grid_values.items():
        assert pdf == grid_values[-x][1], x


# --------------------------------------------------------------------------- exact reference

# ~60 points: every 0.25 on [-10, 10] is too many RPC calls; every 0.37 plus the boundaries.
EXACT_POINTS = sorted(
    {int(round(v * WAD)) for v in np.arange(-12.95, 12.96, 0.37)} | {THRSH, -THRSH, ROOT32, -ROOT32, 1, -1}
)


def test_cdf_matches_exact_reference_to_2e_18_relative(pricer):
    """The contract's own accuracy, far below scipy's: |err| <= 2e-18 * Phi + 2 E36 units.

    normal.vy promises ~26 digits at Phi(-6.36) ~ 1e-10 (E36 with a ~1e-18 relative approximation
    error); the 2-unit absolute term is the E36 truncation, which dominates once Phi < 1e-18.
    """
    worst = Decimal(0)
    for x in EXACT_POINTS:
        exact = exact_cdf(d(x))
        got = Decimal(pricer.norm_cdf_e36(x)) / E36
        err = abs(got - exact)
        worst = max(worst, err / exact)
        assert err <= Decimal("2e-18") * exact + Decimal(2) / E36, (x, got, exact)
        # And the upper tail through the complement, with the same bound.
        upper = 1 - exact
        assert abs((1 - got) - upper) <= Decimal("2e-18") * upper + Decimal(2) / E36, (x, 1 - got, upper)
    assert worst > 0  # the reference really is finer than the E36 result


def test_pdf_matches_exact_reference_to_2e_18_relative(pricer):
    for x in EXACT_POINTS:
        exact = exact_pdf(d(x))
        got = Decimal(pricer.norm_pdf_e36(x)) / E36
        assert abs(got - exact) <= Decimal("2e-18") * exact + Decimal(2) / E36, (x, got, exact)


# --------------------------------------------------------------------------- exact values


def test_cdf_at_zero_is_exactly_one_half(pricer):
    assert pricer.norm_cdf_e36(0) == E36 // 2
    assert pricer.norm_cdf(0) == WAD // 2


def test_pdf_at_zero_is_one_over_sqrt_two_pi(pricer):
    assert pricer.norm_pdf_e36(0) == INV_SQRT_2PI_E36
    assert pricer.norm_pdf(0) == 398_942_280_401_432_678  # rounded to nearest WAD


@pytest.mark.parametrize("x", [Z_MAX, Z_MAX + 1, 38 * WAD, 10**40, 2**255 - 1])
def test_cdf_saturates_beyond_thirteen(pricer, x):
    # Phi(-13) = 6.1e-39 is below half an E36 unit: 0 and 1 are the correctly rounded values.
    assert pricer.norm_cdf_e36(x) == E36
    assert pricer.norm_cdf_e36(-x) == 0
    assert pricer.norm_cdf(x) == WAD
    assert pricer.norm_cdf(-x) == 0
    assert pricer.norm_pdf_e36(x) == 0
    assert pricer.norm_pdf_e36(-x) == 0


def test_cdf_just_inside_thirteen_rounds_to_the_bounds(pricer):
    # Phi(-(13 - 1e-18)) = 6.1e-39 as well: the truncated E36 value is 0, its complement 1.
    assert pricer.norm_cdf_e36(-(Z_MAX - 1)) == 0
    assert pricer.norm_cdf_e36(Z_MAX - 1) == E36


# --------------------------------------------------------------------------- fuzzed

WIDE = st.integers(-38 * WAD, 38 * WAD)


@fuzz(120)
@given(x=WIDE)
def test_cdf_matches_scipy_on_drawn_arguments(pricer, x):
    _assert_cdf_close_to_scipy(x, pricer.norm_cdf_e36(x))


@fuzz(100)
@given(x=st.integers(-6_360_000_000_000_000_000, 0))
def test_lower_tail_relative_error_at_most_1e_13(pricer, x):
    # Phi(x) >= Phi(-6.36) ~ 1.0e-10 on this range: full relative precision is required.
    expected = float(ref.norm_cdf(x / WAD))
    got = pricer.norm_cdf_e36(x) / E36
    assert expected >= 1e-10 * 0.99
    assert abs(got - expected) <= CDF_REL_TOL * expected, (x, got, expected)


@fuzz(100)
@given(x=st.integers(0, 6_360_000_000_000_000_000))
def test_upper_tail_complement_relative_error_at_most_1e_13(pricer, x):
    # 1 - Phi(x) for large positive x is the complement the contract keeps exact in E36.
    expected = float(ref.norm_cdf(-x / WAD))
    got = _upper_float(pricer.norm_cdf_e36(x))
    assert abs(got - expected) <= CDF_REL_TOL * expected, (x, got, expected)


@fuzz(60)
@given(x=st.integers(0, 38 * WAD))
def test_cdf_symmetry_on_drawn_arguments(pricer, x):
    assert abs(pricer.norm_cdf_e36(x) + pricer.norm_cdf_e36(-x) - E36) <= 2


@fuzz(50)
@given(x=WIDE, gap=st.one_of(st.integers(1, 10**6), st.integers(1, 10 * WAD)))
def test_cdf_is_non_decreasing_on_drawn_pairs(pricer, x, gap):
    assert pricer.norm_cdf_e36(x) <= pricer.norm_cdf_e36(x + gap)


@fuzz(40)
@given(x=WIDE)
def test_wad_cdf_and_pdf_are_e36_values_rounded_to_nearest(pricer, x):
    half = WAD // 2
    assert pricer.norm_cdf(x) == (pricer.norm_cdf_e36(x) + half) // WAD
    assert pricer.norm_pdf(x) == (pricer.norm_pdf_e36(x) + half) // WAD


@fuzz(100)
@given(x=st.integers(-15 * WAD, 15 * WAD))
def test_pdf_matches_reference_on_drawn_arguments(pricer, x):
    xf = x / WAD
    expected = float(ref.norm_pdf(xf))
    got = pricer.norm_pdf_e36(x) / E36
    assert abs(got - expected) <= PDF_ABS_TOL, (xf, got, expected)
    if expected >= REL_FLOOR:
        assert abs(got - expected) <= 1e-13 * expected, (xf, got, expected)
