"""Flash pump and TWAP push on the real node: refused, and the attacker loses money."""

import pytest

from dsi.scenarios import get


def by_name(result):
    return {c.name: c for c in result.checks}


def test_flash_pump_is_refused_and_unprofitable(lab):
    r = get("flash_pump").run(lab())
    c = by_name(r)
    assert r.backend == "ape"
    assert c["oracle mid-pump is the feed, flagged DEVIANT"].value == [(10, 3000.0, "DEVIANT"), (50, 3000.0, "DEVIANT")]
    assert c["write at the pumped price refused"].value == "margin: oracle not fresh"
    assert c["withdrawal at the pumped price refused"].value == "margin: oracle not fresh"
    # fees and slippage only: two swaps at 30 bps on ~6.5M USD cost ~39k; the 10x pump costs > 10k
    assert -60_000 < c["attacker PnL <= 0"].value < -10_000
    assert r.metrics["pump_factor"] == pytest.approx(10, rel=0.01)
    assert r.metrics["shortfall_left_usd"] == 0
    assert r.passed


def test_twap_push_moves_the_twap_by_the_held_fraction_and_costs_more_than_it_gains(lab):
    r = get("twap_push").run(lab())
    c = by_name(r)
    # 10 blocks x 12 s of a +30% spot in a 1,800 s window: +2.0% on the TWAP
    assert c["TWAP moved by about k x 12 s / window of the push"].value == pytest.approx(0.02, rel=0.05)
    assert r.metrics["push_gain_usd"] == 0  # withdraw and write refused (oracle DEVIANT)
    assert r.metrics["push_cost_usd"] > 1_000
    assert r.passed
