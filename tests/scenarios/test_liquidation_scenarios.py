"""The liquidation scenarios of the catalog, per mechanism, in process (revm: the same bytecode
as anvil), shortened: each asserts its pass criteria and the figures that make them mean
something (a loss that really reached the fund, a cap that really bit, a spiral that really
happens when the feed follows the pool)."""

import pytest

from dsi.scenarios import get

MECHANISMS = ("dutch", "fixed", "dynamic")


def checks(result) -> dict:
    return {c.name: c for c in result.checks}


def _passed(r):
    assert r.passed, [(c.name, c.detail) for c in r.checks if not c.passed]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_black_thursday_liquidates_and_keeps_the_fund_books(lab, mechanism):
    from dsi.scenarios import black_thursday

    r = black_thursday.run(lab(mechanism=mechanism, quick=False), backend_kind="revm")  # the full 30-minute tail
    _passed(r)
    c = checks(r)
    assert r.metrics["liquidations"] > 0
    assert c["resets re-anchor to the oracle price"].passed
    # liquidation keeps the deficit far below what is at stake with nobody liquidating (18,476 USD)
    assert r.metrics["end_deficit_usd"] < 1_000
    # the insolvent takes drew on the fund, and every unit of it is recorded as covered bad debt
    assert r.metrics["bad_debt_usd"] > 0 and r.metrics["fund_drawdown_usd"] > 0


def test_black_thursday_without_liquidation_measures_what_is_at_stake(lab):
    from dsi.scenarios import black_thursday

    r = black_thursday.run(lab(mechanism="none"), backend_kind="revm")
    _passed(r)
    assert r.metrics["liquidations"] == 0 and r.metrics["max_insolvent"] == 6
    assert r.metrics["end_deficit_usd"] > 15_000


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_gap_past_the_fund_covers_then_socialises(lab, mechanism):
    r = get("gap_past_fund").run(lab(mechanism=mechanism))
    _passed(r)
    m = r.metrics
    assert m["fund_balance_usd"] == 0  # the fund was exhausted first ...
    assert m["socialised_loss_usd"] > 1_000  # ... and only then was loss socialised
    assert m["fund_drawdown_usd"] == pytest.approx(2_000, abs=1e-6)
    assert m["bad_debt_usd"] > m["socialised_loss_usd"]


def test_gap_past_the_fund_without_liquidation_records_every_shortfall(lab):
    r = get("gap_past_fund").run(lab(mechanism="none"))
    _passed(r)
    assert r.metrics["settlement_bad_debt_usd"] > 10_000
    assert r.metrics["settlement_bad_debt_usd"] == pytest.approx(r.metrics["unfunded_payoffs_usd"], abs=1e-3)


@pytest.mark.parametrize("mechanism", ("none",) + MECHANISMS)
def test_donate_then_self_liquidate_loses_money(lab, mechanism):
    r = get("donate_self_liquidate").run(lab(mechanism=mechanism))
    _passed(r)
    c = checks(r)
    assert "margin: below initial margin" in c["the owner cannot make its own account liquidatable"].detail
    # the donations are simply lost (13,000 USD with a fund, 8,000 without) plus gas
    assert r.metrics["attacker_pnl_usd"] < -r.metrics["donated_usd"]
    if mechanism != "none":
        assert "take done" in c["self-liquidation PnL <= 0"].detail
        assert r.metrics["self_liquidation_pnl_usd"] < 0


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_cascade_is_bounded_by_a_broad_feed_and_spirals_on_a_pool_feed(lab, mechanism):
    r = get("cascade").run(lab(mechanism=mechanism))
    _passed(r)
    m = r.metrics
    assert m["liquidations"] >= 1 and m["liquidation_flow_weth"] > 5 and m["flow_slippage_usd"] > 0
    assert m["endogenous_drawdown"] < 0.1  # the flow moved the pool, the feed held the price
    # the same flow with a feed that follows the pool: a death spiral, measured and reported
    assert m["pool_feed_endogenous_drawdown"] > 0.3 and m["pool_feed_cascade_depth"] >= 2


def test_cascade_is_skipped_without_a_mechanism(lab):
    r = get("cascade").run(lab(mechanism="none"))
    assert r.passed is None and "needs a liquidation mechanism" in r.skipped


@pytest.mark.parametrize("mechanism", ("none",) + MECHANISMS)
def test_dump_on_backstop_is_capped_and_profit_is_not_collateral(lab, mechanism):
    r = get("dump_on_backstop").run(lab(mechanism=mechanism))
    _passed(r)
    c = checks(r)
    assert r.metrics["attacker_written"] == 150  # cap 200 - the book's 20, in chunks of 50
    raid = c["unrealised profit never counts as collateral"]
    assert raid.value > 10_000 and "withdraw the buffer: margin: below initial margin" in raid.detail
    if mechanism != "none":
        assert r.metrics["fund_loss_usd"] > 1_000  # the short side really fell on the fund


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_dust_stays_liquidatable_at_1000_gwei_with_the_reserve(lab, mechanism):
    r = get("gas_spike_dust").run(lab(mechanism=mechanism))
    _passed(r)
    m = r.metrics
    assert m["liquidated_1000gwei"] == m["liquidatable_1000gwei"] == 8
    assert m["reserve_per_account_eth"] == pytest.approx(0.9)  # (800k + 100k) gas x 1,000 gwei
    # the keeper is paid the reserve, far more than a 0.01-option discount
    assert m["reward_per_take_usd_1000gwei"] > m["gas_cost_per_take_usd_1000gwei"] > 0


def test_dust_is_left_without_the_reserve_at_500_gwei(lab):
    from dsi.scenarios import dust

    r = dust.run(lab(mechanism="fixed"), backend_kind="revm", with_reserve=False)
    assert not r.passed
    assert r.metrics["liquidatable_500gwei"] == 8 and r.metrics["liquidated_500gwei"] == 0
    assert r.metrics["left_liquidatable_500gwei"] == 8
