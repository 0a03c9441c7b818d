"""Custody longs at settlement, whatever the order of calls and whoever calls (review issue 13,
part 2): `settle_position` redeems an account's custody longs under the account's own key
(`OptionSeries.redeem_for`), so the part an underfunded pool cannot pay yet stays a claim of that
account, which anyone later collects into it (`settle_position` again, `claim_for`). While the
pool is underfunded only the owner may settle its custody long ("margin: series underfunded").
The engine never holds a claim of its own (account 0).

On the code before the fix (83d3683) every test here fails: a third party's settle_position of a
custody long went through, the unpaid rest became a claim of the engine itself
(`pending_claim(id, engine) != 0`) that nothing ever collected, and a second settle_position
reverted "margin: no such position".

The book: the writer (cross) writes puts K=2,700 and gives them to the buyer, who keeps them in
engine custody (sub 0, and sub 1 where two accounts are needed); the market falls to 2,400 (a
solvent short) or 1,500 (an insolvent one) and stays there through expiry.
"""

from __future__ import annotations

import ape
import pytest

from dsi.agents.arbitrageur import trade_to_price
from dsi.reference import options as ref

WAD = 10**18
USD_TO_WAD = 10**12
CROSS = 1
PUT = (2700, False)


def _expect_revert(reason, method, *args, sender):
    """A dry run (`method.call`: nothing is kept) that must revert with exactly `reason`."""
    with ape.reverts(reason):
        method.call(*args, sender=sender)


class Book:
    def __init__(self, world, fund_account, chain):
        self.w, self.p, self.e, self.chain = world, world.protocol, world.engine, chain
        self.fund_account = fund_account
        self.put = world.ids[PUT]

    def write(self, units: int, collateral: float, sub: int = 0):
        """The writer's sub `sub` (cross) writes `units` options of the put with `collateral` USD."""
        p = self.p
        self.fund_account(p.writer, collateral, sub=sub)
        self.e.set_mode(sub, CROSS, sender=p.writer)
        self.e.open_short(sub, self.put, units, sender=p.writer)

    def custody(self, units: int, sub: int = 0):
        """The buyer receives `units` longs and deposits them into its account `sub`."""
        p = self.p
        p.option_token.safeTransferFrom(p.writer, p.buyer, self.put, units, b"", sender=p.writer)
        p.option_token.setApprovalForAll(self.e.address, True, sender=p.buyer)
        self.e.deposit_long(sub, self.put, units, sender=p.buyer)

    def expire(self, price: float):
        """The market falls to `price` and stays there through expiry (the feed reporting it,
        the TWAP observed every 10 minutes); the series settles."""
        p, chain = self.p, self.chain
        trade_to_price(p, int(price * WAD))
        p.feed.submit(int(price * WAD), sender=p.reporter)
        chain.mine(deltatime=self.w.expiry - 2_400 - chain.blocks.head.timestamp)
        p.twap.update(sender=p.keeper)
        while chain.blocks.head.timestamp < self.w.expiry + 60:
            chain.mine(deltatime=600)
            p.feed.submit(int(price * WAD), sender=p.reporter)  # the reporter keeps the feed fresh
            p.twap.update(sender=p.keeper)
        p.series.settle(self.put, sender=p.keeper)
        return p.series.payoff_per_unit(self.put)

    def usd(self, sub: int = 0) -> int:
        return self.e.account(self.p.buyer, sub)[1]

    def pending(self, sub: int = 0) -> int:
        return self.p.series.pending_claim(self.put, self.e.address, ref.engine_account(self.p.buyer, sub))

    def check_ledger(self):
        """The engine holds no claim of its own; its USD ledger is backed by tokens."""
        p, e = self.p, self.e
        assert p.series.pending_claim(self.put, e.address) == 0
        assert p.series.claim_value(self.put, e.address, ref.WALLET) == 0
        assert p.usd.balanceOf(e.address) >= e.total_usd()


@pytest.fixture
def book(margin_world, fund_account, chain):
    return Book(margin_world, fund_account, chain)


@pytest.fixture
def insurance_fund(project, margin_world):
    """insurance_fund(capital_usd): an InsuranceFund with that capital, wired into the engine
    (settlement bad debt) and a payer into the pools. Undone with the test by ape's isolation."""
    p, e, d = margin_world.protocol, margin_world.engine, margin_world.protocol.deployer

    def _make(capital_usd: float):
        fund = project.InsuranceFund.deploy(p.usd.address, e.address, p.series.address, p.oracle.address, sender=d)
        e.set_liquidation(d, fund.address, sender=d)
        p.series.set_payer(fund.address, True, sender=d)
        amount = int(capital_usd * 10**6)
        if amount:
            p.usd.mint(d, amount, sender=d)
            p.usd.approve(fund.address, amount, sender=d)
            fund.deposit(amount, sender=d)
        return fund

    return _make


def _paid_usd(tx, series) -> int:
    """USD the series paid in `tx` (its ClaimPaid events)."""
    return sum(log.usd_amount for log in tx.decode_logs(series.ClaimPaid))


def test_third_party_cannot_settle_a_custody_long_while_the_pool_is_underfunded(book):
    """The griefing order of the review: the attacker (or a keeper settling longs first)
    settles the buyer's custody long before the short has paid in. Refused; once the short has
    paid, the keeper settles the long and the account gets its whole payoff at once."""
    p, e = book.p, book.e
    book.write(3 * WAD, 3_000)
    book.custody(3 * WAD)
    payoff = book.expire(2_400)
    claim = ref.claim_units(payoff, 3 * WAD)
    assert p.series.shortfall(book.put) == claim > 0
    for third in (p.attacker, p.keeper):
        _expect_revert("margin: series underfunded", e.settle_position, p.buyer, 0, book.put, sender=third)
    e.settle_position(p.writer, 0, book.put, sender=p.keeper)
    assert p.series.shortfall(book.put) == 0
    before = book.usd()
    tx = e.settle_position(p.buyer, 0, book.put, sender=p.keeper)
    assert book.usd() - before == _paid_usd(tx, p.series) == claim // USD_TO_WAD
    assert book.pending() == 0 and e.account(p.buyer, 0)[3] == 0
    book.check_ledger()


def test_owner_settles_early_and_anyone_collects_the_rest_into_the_account(book):
    """The owner may take what the pool pays now (nothing yet); the rest is the account's
    pending claim, not the engine's. After the short pays in, the attacker's call collects it
    into the buyer's account, never to the caller; a second collection finds nothing."""
    p, e, series = book.p, book.e, book.p.series
    book.write(3 * WAD, 3_000)
    book.custody(3 * WAD)
    payoff = book.expire(2_400)
    claim = ref.claim_units(payoff, 3 * WAD)
    before = book.usd()
    tx = e.settle_position(p.buyer, 0, book.put, sender=p.buyer)
    assert tx.return_value == 0 and book.usd() == before
    assert series.pending_claim(book.put, e.address) == 0  # before the fix: the whole claim, the engine's
    assert book.pending() == claim
    book.check_ledger()
    e.settle_position(p.writer, 0, book.put, sender=p.keeper)
    wallet = p.usd.balanceOf(p.attacker), e.account(p.attacker, 0)[1]
    tx = e.settle_position(p.buyer, 0, book.put, sender=p.attacker)
    assert tx.return_value == claim
    assert [(log.owner, log.sub, log.id, log.value) for log in tx.decode_logs(e.ClaimCollected)] == [
        (p.buyer, 0, book.put, claim)]
    assert book.usd() - before == _paid_usd(tx, series) == claim // USD_TO_WAD
    assert (p.usd.balanceOf(p.attacker), e.account(p.attacker, 0)[1]) == wallet
    assert book.pending() == 0
    _expect_revert("series: nothing to claim", e.settle_position, p.buyer, 0, book.put, sender=p.attacker)
    book.check_ledger()


def test_payments_do_not_depend_on_the_order_of_settlement(book):
    """Two shorts (the writer's sub 0 and sub 1) and two custody accounts (the buyer's sub 0 and
    sub 1). Sub 0's long is settled by its owner when only one short has paid (half), sub 1's by
    the keeper after both: both accounts end with the same USD, and each key collects only its
    own claim."""
    p, e = book.p, book.e
    book.write(2 * WAD, 3_000, sub=0)
    book.write(2 * WAD, 3_000, sub=1)
    book.custody(2 * WAD, sub=0)
    book.custody(2 * WAD, sub=1)
    payoff = book.expire(2_400)
    claim = ref.claim_units(payoff, 2 * WAD)
    start = book.usd(0), book.usd(1)
    e.settle_position(p.writer, 0, book.put, sender=p.keeper)
    _expect_revert("margin: series underfunded", e.settle_position, p.buyer, 1, book.put, sender=p.keeper)
    first = e.settle_position(p.buyer, 0, book.put, sender=p.buyer).return_value
    funded, owed = p.series.funded_value(book.put), p.series.total_owed_value(book.put)
    assert first == ref.entitled_units(claim, owed, funded) < claim
    assert book.pending(0) == claim - first and book.pending(1) == 0
    # sub 1 has nothing to collect yet (its long is still a position, settled below)
    e.settle_position(p.writer, 1, book.put, sender=p.keeper)
    e.settle_position(p.buyer, 1, book.put, sender=p.keeper)
    e.settle_position(p.buyer, 0, book.put, sender=p.keeper)
    got = book.usd(0) - start[0], book.usd(1) - start[1]
    assert claim // USD_TO_WAD - 1 <= got[0] <= claim // USD_TO_WAD == got[1]  # two floors vs one
    assert book.pending(0) == book.pending(1) == 0
    for sub in (0, 1):
        _expect_revert("series: nothing to claim", e.settle_position, p.buyer, sub, book.put, sender=p.keeper)
    assert p.series.pool_usd(book.put) <= 2  # dust: at most one micro-dollar per floor
    book.check_ledger()


def test_insolvent_short_then_the_fund_covers_and_the_account_collects_in_full(book, insurance_fund):
    """The short cannot pay (1,500 USD against a 3,600 USD payoff): the owner settled its long
    early for the short's 1,500; the fund covers the bad debt; the keeper collects the rest into
    the account: the whole payoff."""
    p, e = book.p, book.e
    fund = insurance_fund(20_000)
    book.write(3 * WAD, 1_500)
    book.custody(3 * WAD)
    payoff = book.expire(1_500)
    claim = ref.claim_units(payoff, 3 * WAD)
    before = book.usd()
    e.settle_position(p.writer, 0, book.put, sender=p.keeper)
    assert e.series_bad_debt(book.put) > 0
    _expect_revert("margin: series underfunded", e.settle_position, p.buyer, 0, book.put, sender=p.attacker)
    early = e.settle_position(p.buyer, 0, book.put, sender=p.buyer).return_value
    assert 0 < early < claim and book.pending() == claim - early
    fund.cover_settlement(book.put, sender=p.keeper)
    assert p.series.shortfall(book.put) == 0 and fund.socialised() == 0
    assert e.settle_position(p.buyer, 0, book.put, sender=p.attacker).return_value == claim - early
    assert claim // USD_TO_WAD - 1 <= book.usd() - before <= claim // USD_TO_WAD
    assert book.pending() == 0
    _expect_revert("series: nothing to claim", e.settle_position, p.buyer, 0, book.put, sender=p.keeper)
    book.check_ledger()


def test_socialised_shortfall_reaches_each_account_pro_rata(book, insurance_fund):
    """The fund cannot cover everything: the rest is socialised and the pool stays underfunded
    for good. The account settled early collects its pro-rata share; the other account's long
    can still only be settled by its owner, who gets the same share at once."""
    p, e, series = book.p, book.e, book.p.series
    fund = insurance_fund(1_000)
    book.write(3 * WAD, 1_500)
    book.custody(WAD, sub=0)
    book.custody(2 * WAD, sub=1)
    payoff = book.expire(1_500)
    start = book.usd(0), book.usd(1)
    e.settle_position(p.buyer, 0, book.put, sender=p.buyer)  # before the short: nothing yet
    e.settle_position(p.writer, 0, book.put, sender=p.keeper)
    fund.cover_settlement(book.put, sender=p.keeper)
    assert fund.socialised() > 0 and series.shortfall(book.put) == fund.socialised_by_series(book.put)
    e.settle_position(p.buyer, 0, book.put, sender=p.keeper)  # collects the account's share
    _expect_revert("margin: series underfunded", e.settle_position, p.buyer, 1, book.put, sender=p.keeper)
    e.settle_position(p.buyer, 1, book.put, sender=p.buyer)
    owed, funded = series.total_owed_value(book.put), series.funded_value(book.put)
    for sub, units in ((0, WAD), (1, 2 * WAD)):
        claim = ref.claim_units(payoff, units)
        share = ref.entitled_units(claim, owed, funded)
        assert share < claim
        assert share // USD_TO_WAD - 1 <= book.usd(sub) - start[sub] <= share // USD_TO_WAD
        assert book.pending(sub) == claim - share  # the socialised part stays recorded
        _expect_revert("series: nothing to claim", e.settle_position, p.buyer, sub, book.put, sender=p.keeper)
    book.check_ledger()


def test_collection_needs_a_settled_series_and_a_claim(book):
    """With no position in the series, settle_position is a collection: before settlement it
    reverts "series: not settled", with nothing recorded "series: nothing to claim"."""
    p, e = book.p, book.e
    book.write(WAD, 3_000)
    _expect_revert("series: not settled", e.settle_position, p.buyer, 0, book.put, sender=p.keeper)
    book.expire(2_400)
    _expect_revert("series: nothing to claim", e.settle_position, p.buyer, 0, book.put, sender=p.keeper)
