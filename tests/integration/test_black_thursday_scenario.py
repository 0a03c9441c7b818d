"""Black Thursday end to end on anvil (the real node) through the catalog, with the Dutch
auction and the keeper: the oracle follows the crash, the keeper liquidates, the fund's books
balance and no account is left insolvent and unrecorded."""

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

    yield Context(make_backend=make, params=Params(), mechanism="dutch", quick=True)
    for f in facades:
        f.close()


def test_black_thursday_on_anvil_liquidates_through_the_dutch_auction(ctx):
    result = get("black_thursday").run(ctx)
    steps = result.steps
    assert result.backend == "ape" and result.mechanism == "dutch"
    # 3,000, then x0.80, x0.80, x0.78: each gap held six one-minute blocks, then 5 more (quick)
    markets = [s["market"] for s in steps]
    assert markets[0] == 3_000.0 and markets[-1] == pytest.approx(1_497.6)
    assert sorted(set(markets), reverse=True) == pytest.approx([3000.0, 2400.0, 1920.0, 1497.6])
    assert result.passed, [(c.name, c.detail) for c in result.checks if not c.passed]
    m = result.metrics
    assert m["liquidations"] >= 3 and m["keeper_pnl_usd"] > 0
    # the fund paid the insolvent takes; what it paid above the deficit it covered is incentive
    assert 0 < m["bad_debt_usd"] <= m["fund_drawdown_usd"]
    assert m["end_deficit_usd"] < 1_000  # what is left open is small and recorded
