"""The same scenario gives identical numbers on the Ape backend (anvil) and in process (boa):
`dsi.protocol.deploy` and `deploy_margin` run unchanged on both, time moves only through the
chain facade, and every value the scenario reads comes from the contracts."""

from __future__ import annotations

import pytest

from dsi.agents.arbitrageur import trade_to_price
from dsi.chain import ape_backend, boa_backend, revm_backend
from dsi.protocol import deploy, deploy_margin

WAD = 10**18
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)


def small_scenario(backend) -> dict:
    """Deploy, build 30 minutes of TWAP history, write a put in portfolio margin, move the
    market -10% with the arbitrageur, and read back what the protocol computes."""
    chain = backend.chain
    p = deploy_margin(backend.project, deploy(backend.project, backend.accounts))
    start = chain.timestamp
    expiry = start + 30 * DAY
    p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
    p.series.list_series(2_700 * WAD, expiry, False, False, sender=p.deployer)
    put = p.series.find_series(2_700 * WAD, expiry, False, False)
    for _ in range(30):
        chain.mine(deltatime=60)
        p.twap.update(sender=p.keeper)
    p.feed.submit(3_000 * WAD, sender=p.reporter)
    p.usd.mint(p.writer, 50_000 * 10**6, sender=p.deployer)
    p.usd.approve(p.engine.address, 50_000 * 10**6, sender=p.writer)
    p.engine.deposit(1, 50_000 * 10**6, 0, sender=p.writer)
    p.engine.set_mode(1, 2, sender=p.writer)
    p.engine.open_short(1, put, 10 * WAD, sender=p.writer)
    before = p.engine.margin(p.writer, 1)
    trade_to_price(p, 2_700 * WAD)
    p.feed.submit(2_700 * WAD, sender=p.reporter)
    chain.mine(deltatime=120)
    p.twap.update(sender=p.keeper)
    after = p.engine.margin(p.writer, 1)
    return {
        "elapsed": chain.timestamp - start,
        "oracle": tuple(p.oracle.price()),
        "twap": p.twap.twap(1_800),
        "reserves": (p.pool.reserve0(), p.pool.reserve1()),
        "margin_before": tuple(before),
        "margin_after": tuple(after),
        "account": tuple(p.engine.account(p.writer, 1)),
        "positions": [tuple(x) for x in p.engine.positions(p.writer, 1)],
        "adequacy": p.engine.collateral_adequacy(),
    }


@pytest.fixture
def on_ape(node_project, accounts, node_chain):
    """The Ape backend on the session's anvil (this file is about the backends themselves)."""
    backend = ape_backend(node_project, accounts, node_chain)
    yield backend
    backend.chain.close()


def test_same_scenario_same_numbers_on_ape_boa_and_revm(on_ape):
    on_anvil = small_scenario(on_ape)
    assert small_scenario(boa_backend()) == on_anvil
    assert small_scenario(revm_backend()) == on_anvil
    # and the scenario did something: feed and market at 2,700 (10% off the 30-minute TWAP, the
    # feed confirming spot: a fast market, FRESH), the put moved towards the money, maintenance
    # margin rose
    assert on_anvil["oracle"] == (2_700 * WAD, 0)
    assert on_anvil["margin_after"][2] > on_anvil["margin_before"][2] > 0
    assert on_anvil["elapsed"] == 30 * 60 + 120


@pytest.mark.parametrize("make", [boa_backend, revm_backend], ids=["boa", "revm"])
def test_in_process_snapshot_restores_state_and_clock(make):
    backend = make()
    chain = backend.chain
    token = backend.project.CollateralToken.deploy("DSI USD", "dUSD", 6, sender=backend.accounts[0])
    t0 = chain.timestamp
    snap = chain.snapshot()
    token.mint(backend.accounts[1], 5, sender=backend.accounts[0])
    chain.mine(deltatime=600)
    assert token.balanceOf(backend.accounts[1]) == 5 and chain.timestamp == t0 + 600
    chain.restore(snap)
    assert token.balanceOf(backend.accounts[1]) == 0 and chain.timestamp == t0
    with chain.isolate():
        token.mint(backend.accounts[1], 7, sender=backend.accounts[0])
    assert token.balanceOf(backend.accounts[1]) == 0


@pytest.mark.parametrize("make", [boa_backend, revm_backend], ids=["boa", "revm"])
def test_in_process_counts_calls_and_gas(make):
    backend = make()
    token = backend.project.CollateralToken.deploy("DSI USD", "dUSD", 6, sender=backend.accounts[0])
    calls, gas = backend.chain.calls, backend.chain.gas_used()
    token.mint(backend.accounts[1], 5, sender=backend.accounts[0])
    token.balanceOf(backend.accounts[1])
    assert backend.chain.calls == calls + 2
    # one transaction: 21,000 intrinsic plus a fresh balance slot (20,000 + ...) written
    assert 21_000 + 20_000 < backend.chain.gas_used() - gas < 21_000 + 60_000


@pytest.mark.parametrize("make", [boa_backend, revm_backend], ids=["boa", "revm"])
def test_unknown_contract_name_is_a_clear_error(make):
    backend = make()
    with pytest.raises(AttributeError, match="chain: no contract named 'NoSuchThing'"):
        backend.project.NoSuchThing.deploy(sender=backend.accounts[0])


@pytest.mark.parametrize("name", ["ape", "boa", "revm"])
def test_attempt_returns_the_revert_reason_on_every_backend(name, node_project, accounts, node_chain):
    from dsi.chain import backend as make

    on_node = {"project": node_project, "accounts": accounts, "chain": node_chain}
    backend = make(name, **(on_node if name == "ape" else {}))
    try:
        owner, stranger = backend.accounts[0], backend.accounts[1]
        token = backend.project.CollateralToken.deploy("DSI USD", "dUSD", 6, sender=owner)
        assert backend.chain.attempt(token.mint, stranger, 5, sender=stranger) == (False, "erc20: access is denied")
        ok, _ = backend.chain.attempt(token.mint, stranger, 5, sender=owner)
        assert ok and token.balanceOf(stranger) == 5
    finally:
        if name == "ape":
            backend.chain.close()
