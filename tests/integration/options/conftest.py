"""Fixtures for the options layer: `opts`, a small driver that lists series, funds and writes,
moves the market, expires and settles, and checks that every token the vault and the series hold
is accounted for. More writers and holders of one series (`second_writer`, `second_buyer`,
`third_writer`) are role fixtures of tests/conftest.py.

The protocol (with OptionToken, OptionSeries and OptionsVault) comes from the session
`protocol` fixture in tests/integration/conftest.py; the chain is restored after every test.
"""

from __future__ import annotations

import ape
import pytest

from dsi.agents.arbitrageur import trade_to_price
from dsi.reference import options as ref

WAD = 10**18
DAY = 86_400
FRESH, STALE, DEVIANT, FALLBACK, FROZEN = range(5)


class Options:
    def __init__(self, protocol, chain):
        self.p = protocol
        self.chain = chain

    def now(self) -> int:
        return self.chain.blocks.head.timestamp

    def fresh(self, price_wad: int = 3000 * WAD):
        """A new feed print: the oracle is FRESH at `price_wad` while the pool agrees within
        the oracle's deviation limits."""
        self.p.feed.submit(price_wad, sender=self.p.reporter)

    def list(self, strike: float | int, days: float = 7, is_call: bool = True, american: bool = False) -> int:
        """Lists (strike in USD, or WAD if an int above 1e12) expiring in `days`; returns the id."""
        strike_wad = strike if isinstance(strike, int) and strike > 10**12 else int(strike * WAD)
        self.fresh()
        expiry = self.now() + int(days * DAY)
        self.p.series.list_series(strike_wad, expiry, is_call, american, sender=self.p.deployer)
        return self.p.series.series_count()

    def terms(self, id_: int):
        return self.p.series.series(id_)

    def asset(self, id_: int):
        return self.p.weth if self.terms(id_).is_call else self.p.usd

    def fund(self, account, id_: int, amount: int) -> int:
        """Mints the collateral `amount` options of `id_` lock (per the reference) to `account`
        and approves the vault; returns it."""
        t = self.terms(id_)
        lock = ref.lock_units(t.strike, t.is_call, amount)
        token = self.asset(id_)
        token.mint(account, lock, sender=self.p.deployer)
        token.approve(self.p.vault.address, lock, sender=account)
        return lock

    def write(self, account, id_: int, amount: int) -> int:
        lock = self.fund(account, id_, amount)
        self.p.vault.write(id_, amount, sender=account)
        return lock

    def give(self, holder, to, id_: int, amount: int):
        self.p.option_token.safeTransferFrom(holder, to, id_, amount, b"", sender=holder)

    def move_pool(self, price_wad: int):
        """Trades the pool to `price_wad` and writes a TWAP observation right after."""
        trade_to_price(self.p, price_wad)
        self.p.twap.update(sender=self.p.keeper)

    def expire(self, id_: int, pool_price_wad: int | None = None) -> tuple[int, int]:
        """Optionally moves the pool first, then time to just past expiry, then settles.
        The settlement window covers only the (constant) post-trade price, which the feed reports
        just after expiry. Returns (S, payoff)."""
        if pool_price_wad is not None:
            self.move_pool(pool_price_wad)
        expiry = self.terms(id_).expiry
        self.chain.mine(deltatime=expiry - self.now() + 1)
        # The reporter reports the market at expiry: the settlement price is the feed's
        # (the pool, untouched since, agrees: its median TWAP is the same price).
        self.p.feed.submit(self.p.pool.spot_price(), sender=self.p.reporter)
        self.p.series.settle(id_, sender=self.p.keeper)
        return self.p.series.settlement_price(id_), self.p.series.payoff_per_unit(id_)

    def balances(self, account) -> tuple[int, int]:
        return self.p.usd.balanceOf(account), self.p.weth.balanceOf(account)

    def assert_conserved(self, ids):
        """Every token the vault holds is owed to a writer (locked + free per series) and every
        token the series holds is in a settlement pool; internal accounting == balanceOf."""
        v, s = self.p.vault, self.p.series
        weth_owed = sum(v.series_collateral(i) for i in ids if self.terms(i).is_call)
        usd_owed = sum(v.series_collateral(i) for i in ids if not self.terms(i).is_call)
        assert v.weth_held() == weth_owed == self.p.weth.balanceOf(v.address)
        assert v.usd_held() == usd_owed == self.p.usd.balanceOf(v.address)
        assert sum(s.pool_weth(i) for i in ids) == self.p.weth.balanceOf(s.address)
        assert sum(s.pool_usd(i) for i in ids) == self.p.usd.balanceOf(s.address)
        for i in ids:
            sh = v.shorts(i)
            # locked always covers the lock of what is outstanding
            t = self.terms(i)
            assert sh.locked >= ref.lock_units(t.strike, t.is_call, sh.outstanding)


@pytest.fixture
def opts(protocol, chain):
    return Options(protocol, chain)


def _expect_revert(reason: str, method, *args, sender):
    """Dry-runs `method(*args)` from `sender` (`method.call`: nothing is kept) and asserts that it
    reverts with exactly `reason`, as `ape.reverts` on a sent transaction."""
    with ape.reverts(reason):
        method.call(*args, sender=sender)


@pytest.fixture(scope="session")
def expect_revert():
    return _expect_revert
