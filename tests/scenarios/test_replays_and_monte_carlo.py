"""Historical replays (shortened to the 48 bars ending at each window's low) and Monte Carlo."""

import math

import numpy as np
import pytest

from dsi.scenarios import REPLAYS, get
from dsi.scenarios.monte_carlo import STEP_S, YEAR_S, MertonParams, calibrate_jumps, paths


@pytest.mark.parametrize("name", list(REPLAYS))
def test_replay_meets_its_criteria(name, lab):
    r = get(name).run(lab())
    assert r.backend == "revm" and len(r.steps) == 17  # 47 bars measured every third and at the last
    assert set(r.metrics["frontier"]) == {"isolated", "cross", "portfolio"}
    assert all(f["capital_usd"] > 0 for f in r.metrics["frontier"].values())
    # same position: isolated and cross ask the same (the standard formula, leg by leg); every
    # margin mode asks less than the vault's full collateral
    f = r.metrics["frontier"]
    assert f["isolated"]["capital_usd"] == pytest.approx(f["cross"]["capital_usd"], rel=1e-9)
    full = r.metrics["frontier_full_collateral_usd"]
    assert f["cross"]["capital_usd"] < full and f["portfolio"]["capital_usd"] < full
    # the window really is a crash: the low is inside the shortened window
    # (metrics are sampled every third bar; the low is over every bar traded)
    assert r.metrics["low"] <= min(r.series["market"] + [r.metrics["start_price"]])
    assert r.metrics["drawdown"] > 0.04
    assert r.metrics["fresh_share"] > 0.5
    assert [c.passed for c in r.checks] == [True, True, True], [c.detail for c in r.checks]


def test_monte_carlo_meets_its_criteria(lab):
    r = get("monte_carlo").run(lab())
    assert r.metrics["paths"] == 4 and r.metrics["steps_per_path"] == 24
    assert r.passed, [c.detail for c in r.checks]


def test_merton_paths_match_the_model_moments():
    m = MertonParams(sigma=0.8, lam=3_000.0, mu_j=-0.01, sigma_j=0.05)
    x = np.log(paths(m, 1.0, 1, 400_000, seed=7)[:, 1])
    dt = STEP_S / YEAR_S
    mean = (-0.5 * m.sigma**2 - m.lam * m.k) * dt + m.lam * dt * m.mu_j
    var = m.sigma**2 * dt + m.lam * dt * (m.mu_j**2 + m.sigma_j**2)
    assert x.mean() == pytest.approx(mean, abs=4 * math.sqrt(var / len(x)))
    assert x.var() == pytest.approx(var, rel=0.02)


def test_jump_calibration_on_the_crash_files():
    m = calibrate_jumps()
    # crash windows: thousands of 5-sigma moves a year, mostly down, a few percent each
    assert 500 < m.lam < 20_000
    assert m.mu_j < 0
    assert 0.005 < m.sigma_j < 0.2
