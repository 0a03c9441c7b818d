"""Properties of the reference margin model (the twin the on-chain MarginEngine will match)."""

import math

import pytest

from dsi.reference import margin as M

DAY = 86_400


@pytest.fixture
def market():
    # A skewed 30-day slice: ATM vol ~ 60%, put skew (rho < 0).
    svi = M.Svi(a=0.01, b=0.08, rho=-0.3, m=0.0, sigma=0.2)
    return M.Market(spot=3000.0, surfaces={30 * DAY: svi, 60 * DAY: svi.scaled(1.1)})


def test_svi_vol_is_skewed(market):
    svi = market.surfaces[30 * DAY]
    tau = 30 / 365
    assert svi.vol(3000, 2400, tau) > svi.vol(3000, 3000, tau) > 0
    # Scaling by f multiplies every vol by f.
    assert math.isclose(svi.scaled(1.5).vol(3000, 2700, tau), 1.5 * svi.vol(3000, 2700, tau), rel_tol=1e-12)


def test_standard_short_put_formula(market):
    p = M.Position(2700.0, 30 * DAY, False, -2)
    mark = market.mark(p)
    otm = (3000 - 2700) / 3000
    assert math.isclose(M.standard([p], market), 2 * (mark + max(0.15 - otm, 0.10) * 3000), rel_tol=1e-12)
    assert M.standard([p], market, maintenance=True) < M.standard([p], market)


def test_longs_get_no_credit_in_standard_margin(market):
    short = M.Position(3300.0, 30 * DAY, True, -1)
    long_ = M.Position(3600.0, 30 * DAY, True, 1)
    assert M.standard([short, long_], market) == M.standard([short], market)


def test_portfolio_spread_bounded_by_max_loss(market):
    short = M.Position(3300.0, 30 * DAY, True, -1)
    long_ = M.Position(3600.0, 30 * DAY, True, 1)
    book = [short, long_]
    net_premium = market.mark(short) - market.mark(long_)
    max_loss = 300 - net_premium
    req = M.portfolio(book, market, maintenance=True)
    contingency = M.PortfolioParams().contingency * 3000
    assert req - contingency <= max_loss * M.PortfolioParams().mm_factor + 1e-9
    assert req < M.standard(book, market)


def test_scenario_grid_size_and_worst_case(market):
    params = M.PortfolioParams()
    scen = params.scenarios()
    assert len(scen) == 9 * 3 + 4 + 2
    # A naked short call's worst scenario is a spot-up one.
    p = M.Position(3300.0, 30 * DAY, True, -1)
    pnl = M.scenario_pnl([p], market, params)
    worst = min(range(len(scen)), key=lambda i: pnl[i])
    assert scen[worst][0] > 1
    assert all(v <= 1e-9 for v, s in zip(pnl, scen) if s[0] > 1 and s[1] in ("up", "flat"))


def test_vol_shock_scaling_floored_and_capped():
    params = M.PortfolioParams()
    assert params.vol_scale(30 * DAY) == pytest.approx(1.0)
    assert params.vol_scale(365 * DAY) == params.vol_scale_floor  # (30/365)^0.3 = 0.47 < 0.5
    assert params.vol_scale(60) == params.vol_scale_cap
    assert params.vol_scale(7 * DAY) == pytest.approx((30 / 7) ** 0.3)


def test_covered_weth_offsets_short_call_in_portfolio(market):
    p = M.Position(3300.0, 30 * DAY, True, -1)
    assert M.portfolio([p], market, weth=1.0) < M.portfolio([p], market)
