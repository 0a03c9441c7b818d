"""Liquidation fixtures: a fresh protocol with the margin layer, the insurance fund and all three
mechanisms deployed against the same engine and fund; `use(name)` wires one of them (the wiring
is undone with the rest of the test when the chain is restored).

The standard setup: a 30-day expiry with a skewed SVI slice, puts and calls listed, 30 minutes of
TWAP history at 3,000, the fund holding 20,000 USD, the keeper's taker account (sub 1, cross)
holding 1,000,000 USD with the fund approved for fees.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from builder import Builder

from dsi.agents.arbitrageur import amount_to_price

WAD = 10**18
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)
TAKER_SUB = 1
MECHANISMS = ("dutch", "fixed", "dynamic")


@dataclass
class World:
    p: object
    chain: object
    expiry: int
    ids: dict
    mechanisms: dict

    @property
    def engine(self):
        return self.p.engine

    @property
    def fund(self):
        return self.p.insurance_fund

    def use(self, name: str):
        """Wire mechanism `name` into the engine and the fund; returns it."""
        liq = self.mechanisms[name]
        d = self.p.deployer
        self.engine.set_liquidation(liq.address, self.fund.address, sender=d)
        self.fund.set_liquidator(liq.address, sender=d)
        return liq

    def move(self, price: float):
        """Market and feed move to `price` together and stay there for a TWAP window (a genuine
        move: the oracle is FRESH at the new price afterwards)."""
        p = self.p
        pool = p.pool
        side, amount = amount_to_price(pool.reserve0(), pool.reserve1(), int(price * WAD), pool.fee_bps())
        if amount:
            token = p.weth if side == "weth" else p.usd
            pool.swap_exact_in(token.address, amount, 0, p.arbitrageur, sender=p.arbitrageur)
        p.feed.submit(int(price * WAD), sender=p.reporter)
        for dt in (60, 1_800):
            self.chain.mine(deltatime=dt)
            p.twap.update(sender=p.keeper)
        p.feed.submit(int(price * WAD), sender=p.reporter)
        assert p.oracle.price()[1] == 0

    def refresh(self):
        """Keep the feed fresh at its current price (after long waits)."""
        p = self.p
        price = p.feed.latest_round_data()[1]
        p.feed.submit(price, sender=p.reporter)

    def drain_fund(self, target: int):
        """Governance withdraws the fund down to `target` USD (6 decimals) at the fastest rate the
        limits allow (50% a week, no floor), keeping the TWAP observed."""
        p, fund = self.p, self.fund
        fund.set_limits(0, 5 * 10**17, sender=p.deployer)
        while fund.capital() > target:
            fund.withdraw(p.deployer, min(fund.capital() - target, fund.capital() // 2), sender=p.deployer)
            if fund.capital() > target:
                self.chain.mine(deltatime=7 * DAY + 1)
                p.twap.update(sender=p.keeper)
        if self.chain.blocks.head.timestamp < self.expiry:
            p.vol_feed.push(self.expiry, *SLICE, sender=p.reporter)  # the reporter kept it fresh
            self.refresh()

    def fund_account(self, account, usd: float, sub: int, mode: int = 1):
        Builder.deposit(self.p, account, usd, 0.0, sub, mode)

    def open_book(self, account, sub: int, shorts: list[tuple[int, bool, float]], leverage: float = 1.02,
                  mode: int = 1):
        """Write `shorts` [(strike, is_call, options)] funded at `leverage` x initial margin."""
        self.fund_account(account, 1_000_000, sub, mode)
        for strike, is_call, units in shorts:
            self.engine.open_short(sub, self.ids[(strike, is_call)], int(units * WAD), sender=account)
        need = self.engine.margin(account, sub).initial * leverage / WAD / 0.99
        _, usd, _, _ = self.engine.account(account, sub)
        self.engine.withdraw(sub, usd - int(need * 10**6), 0, sender=account)


KINDS = ((2700, False), (2400, False), (2100, False), (3300, True), (3600, True))


def build_world(build) -> World:
    p = build.liquidation(build.margin(build.protocol()), "dutch", fund_capital=20_000)
    d = p.deployer
    mechanisms = {"dutch": p.liquidator, **{name: build.mechanism(p, name) for name in ("fixed", "dynamic")}}
    expiry = build.chain.blocks.head.timestamp + 30 * DAY
    build.vol_slice(p, expiry, SLICE)
    ids = build.list_series(p, expiry, KINDS)
    build.twap_history(p, 30)
    build.fresh_oracle(p, 3_000 * WAD)
    w = World(p=p, chain=build.chain, expiry=expiry, ids=ids, mechanisms=mechanisms)
    for taker in (p.keeper, p.attacker):
        w.fund_account(taker, 1_000_000, TAKER_SUB)
        p.usd.mint(taker, 100_000 * 10**6, sender=d)  # wallet cash for the fund's fees
        p.usd.approve(p.insurance_fund.address, 2**256 - 1, sender=taker)
    arb = p.arbitrageur
    for token in (p.weth, p.usd):
        token.mint(arb, 10**30, sender=d)
        token.approve(p.pool.address, 2**256 - 1, sender=arb)
    # The standing books: the writer's and the attacker's sub 0 short 10 puts K=2,700 at 1.02 x
    # initial margin; the buyer's sub 3 holds 1,000 USD and no positions.
    for account in (p.writer, p.attacker):
        w.open_book(account, 0, [(2700, False, 10)], 1.02)
    w.fund_account(p.buyer, 1_000, 3)
    return w


@pytest.fixture(scope="session")
def world(build):
    return build_world(build)


@pytest.fixture(scope="session")
def node_world(node_build):
    """The same world on anvil: the keeper's live-network path (events, eth_estimateGas) and gas."""
    return build_world(node_build)


@pytest.fixture(params=MECHANISMS)
def mechanism(request, world):
    """Each mechanism in turn, wired."""
    return request.param, world.use(request.param)


@pytest.fixture(params=MECHANISMS)
def node_mechanism(request, node_world):
    return request.param, node_world.use(request.param)


def _underwater(world):
    def _make(drop: float = 2_600.0, sub: int = 0, shorts=None, leverage: float = 1.02, mode: int = 1):
        writer = world.p.writer
        if sub != 0:
            world.open_book(writer, sub, shorts or [(2700, False, 10)], leverage, mode)
        world.move(drop)
        return writer, sub

    return _make


@pytest.fixture
def underwater(world):
    """underwater(drop=2_600, sub=0, shorts=None): the market falls to `drop` under the writer's
    standing book (sub 0: cross, short 10 puts K=2,700 at 1.02 x initial margin), or under a new
    book `shorts` opened on `sub` != 0 first; returns (owner, sub)."""
    return _underwater(world)


@pytest.fixture
def node_underwater(node_world):
    return _underwater(node_world)
