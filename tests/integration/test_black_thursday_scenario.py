"""Black Thursday runs end to end on anvil through the catalog and reports what is at stake."""

import pytest

from dsi.chain import ape_backend
from dsi.protocol import Params
from dsi.scenarios import Context, get


@pytest.fixture
def ctx(project, accounts, chain):
    facades = []

    def make(kind):
        b = ape_backend(project, accounts, chain)
        facades.append(b.chain)
        return b

    yield Context(make_backend=make, params=Params())
    for f in facades:
        f.close()


def test_black_thursday_runs_and_measures_the_unliquidated_loss(ctx):
    result = get("black_thursday").run(ctx)
    steps = result.steps
    assert [s["market"] for s in steps] == pytest.approx([3000.0, 2400.0, 1920.0, 1497.6])
    # The oracle follows the market through every gap (feed and spot agree).
    for s in steps:
        assert s["status"] == "FRESH"
        assert s["oracle"] == pytest.approx(s["market"], rel=1e-9)
    # Before the crash every account is healthy and solvent; after -50% with no liquidation
    # every short-put account is below maintenance and the deficit is positive and growing.
    assert steps[0]["below_mm"] == 0 and steps[0]["insolvent"] == 0
    assert steps[-1]["below_mm"] == 6
    deficits = [s["deficit_usd"] for s in steps]
    assert deficits[-1] > deficits[-2] >= deficits[0] == 0
    assert result.metrics["end_deficit_usd"] == pytest.approx(22_247, abs=1)
    # Deeper strikes lose less: the 2,100 puts end with a smaller deficit than the 2,700s.
    last = {(r["mode"], r["strike"]): r["net_value"] for r in steps[-1]["accounts"]}
    assert last[("cross", 2100)] > last[("cross", 2700)]
    assert result.passed and result.mechanism == "none" and result.backend == "ape"
