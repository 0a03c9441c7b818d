"""The lab's first scenario runs end to end on anvil and reports what is at stake."""

import pytest

from dsi.scenarios import black_thursday


def test_black_thursday_runs_and_measures_the_unliquidated_loss(project, accounts, chain):
    result = black_thursday.run(project, accounts, chain)
    markets = [s["market"] for s in result.steps]
    assert markets == pytest.approx([3000.0, 2400.0, 1920.0, 1497.6])
    # The oracle follows the market through every gap (feed and spot agree).
    for s in result.steps:
        assert s["status"] == "FRESH"
        assert s["oracle"] == pytest.approx(s["market"], rel=1e-9)
    # Before the crash every account is healthy and solvent; after -50% with no liquidation
    # every short-put account is below maintenance and the deficit is positive and growing.
    assert result.steps[0]["below_maintenance"] == 0 and result.steps[0]["insolvent"] == 0
    assert result.steps[-1]["below_maintenance"] == 6
    deficits = [s["deficit"] for s in result.steps]
    assert deficits[-1] > deficits[-2] >= deficits[0] == 0
    # Deeper strikes lose less: the 2,100 puts end with a smaller deficit than the 2,700s.
    last = {(r["mode"], r["strike"]): r["net_value"] for r in result.accounts[-1]}
    assert last[("cross", 2100)] > last[("cross", 2700)]
    assert result.passed
