"""Black Thursday end to end on anvil (the real node) through the catalog: the same scenario
code as in process, the baseline with nobody liquidating (the mechanisms' runs are in
tests/scenarios/test_liquidation_scenarios.py, in process: a keeper scanning every block costs
minutes through RPC)."""

import pytest

from dsi.chain import ape_backend
from dsi.protocol import Params
from dsi.scenarios import Context
from dsi.scenarios import black_thursday


@pytest.fixture
def ctx(node_project, accounts, node_chain):
    facades = []

    def make(kind):
        b = ape_backend(node_project, accounts, node_chain)
        facades.append(b.chain)
        return b

    yield Context(make_backend=make, params=Params(), mechanism="none", quick=True)
    for f in facades:
        f.close()


def test_black_thursday_on_anvil_measures_what_is_at_stake(ctx):
    result = black_thursday.run(ctx, backend_kind="ape", hold=1, tail_min=1)  # 8 blocks: RPC is slow
    steps = result.steps
    assert result.backend == "ape" and result.mechanism == "none"
    # 3,000, then x0.80, x0.80, x0.78: each gap and one more one-minute block, then one more
    markets = [s["market"] for s in steps]
    assert len(markets) == 8 and markets[0] == 3_000.0 and markets[-1] == pytest.approx(1_497.6)
    assert sorted(set(markets), reverse=True) == pytest.approx([3000.0, 2400.0, 1920.0, 1497.6])
    assert result.passed, [(c.name, c.detail) for c in result.checks if not c.passed]
    m = result.metrics
    # every short-put account below maintenance and insolvent at -50%, nothing liquidated
    assert m["liquidations"] == 0 and m["max_insolvent"] == 6 and steps[0]["below_mm"] == 0
    assert m["end_deficit_usd"] > 15_000
    # deeper strikes lose less: the 0.7 x spot puts end with a smaller deficit than the 0.9 x
    last = {r["sub"]: r["net_value"] for r in steps[-1]["accounts"]}
    assert last[3] > last[1] and last[6] > last[4]
