"""Frozen feed (in process) and bad print (real node)."""

import pytest

from dsi.scenarios import get


def by_name(result):
    return {c.name: c for c in result.checks}


def test_frozen_feed_adds_no_risk_off_the_market_and_falls_back_to_the_twap(lab):
    r = get("frozen_feed").run(lab())
    c = by_name(r)
    assert r.backend == "revm"
    assert c["risk-increasing actions refused while the oracle disagrees with the market"].value == 0
    assert c["nothing valued at the frozen price once the market left it"].value == 0
    last = r.steps[-1]
    assert last["market"] == pytest.approx(300.0)
    assert last["status"] != "FRESH" and last["oracle"] < 0.2 * 3000  # the TWAP, not the frozen 3,000
    assert r.metrics["max_latency_s"] >= 3_600  # the stuck feed aged past max_age
    # the finding the liquidation layer must respect: the engine's price lagged the market
    assert r.metrics["blocks_valued_off_market"] > 10
    assert r.passed


def test_bad_print_changes_nothing(lab):
    r = get("bad_print").run(lab())
    c = by_name(r)
    assert r.backend == "revm"
    assert r.metrics["bad_prints"] == pytest.approx([4050.0, 1800.0])
    assert {s["oracle"] for s in r.steps} == {3000.0}
    assert c["zero actions at the bad price"].value == 0
    assert c["last good price held"].value == 3000.0
    assert r.passed
