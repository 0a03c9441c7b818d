"""Settlement price integrity (issue 13): the price one expiry settles at cannot be moved by a
pool pump of any size in the last block, nor by ten blocks held at x4 (up or down); a bad feed
print defers settlement and is outvoted; an expiry settles a day, a month and a year late; only
listed expiries settle. The numbers are compared with `dsi.reference.settlement`.

Each test here fails on the code before the fix: `settle` fixed the pool's arithmetic TWAP over
the window ending at expiry (x100 in the last block: +66%), for any timestamp, and reverted for
good once the TWAP ring no longer covered the window."""

import ape
import pytest

from dsi.agents.arbitrageur import trade_to_price
from dsi.protocol import Params
from dsi.reference import settlement as ref

WAD = 10**18
DAY = 86_400
WINDOW = 1_800


@pytest.fixture(scope="module")
def protocol(build):
    """This module's own deployment: the session's may carry expiries other modules listed (a
    session fixture first built inside another module's snapshot), and these tests read the
    oracle's checkpoint queue and TWAP ring from empty."""
    return build.protocol()


def _list_expiry(p, chain, seconds: int) -> int:
    """A series listed `seconds` from now (its expiry is registered with the oracle)."""
    expiry = chain.blocks.head.timestamp + seconds
    p.feed.submit(p.pool.spot_price(), sender=p.reporter)
    p.series.list_series(3_000 * WAD, expiry, True, False, sender=p.deployer)
    return expiry


def _run_to(p, chain, t: int, step: int, path: list, feed: bool = True):
    """Blocks every `step` s up to time t, a keeper observing each; the reporter pushes the pool
    price each block when `feed`. Appends the pool price path."""
    while chain.blocks.head.timestamp + step <= t:
        chain.mine(deltatime=step)
        p.twap.update(sender=p.keeper)
        if feed:
            p.feed.submit(p.pool.spot_price(), sender=p.reporter)
    if chain.blocks.head.timestamp < t:
        chain.mine(timestamp=t)
        p.twap.update(sender=p.keeper)


def _trade(p, chain, price_wad: int, path: list, trader=None):
    """Move the pool in the next block; the new price holds from that block's timestamp."""
    trade_to_price(p, price_wad, trader=trader)
    path.append((chain.blocks.head.timestamp, p.pool.spot_price() / WAD))


def _history(p, chain):
    """The pool price path, starting now at the current price."""
    path = [(chain.blocks.head.timestamp, p.pool.spot_price() / WAD)]
    return path


def test_only_listed_expiries_settle_and_the_registry_is_set_once(protocol, chain):
    o = protocol.oracle
    past = chain.blocks.head.timestamp - 60
    with ape.reverts("oracle: unknown expiry"):
        o.settle(past, sender=protocol.attacker)
    with ape.reverts("oracle: unknown expiry"):
        o.checkpoint(past, sender=protocol.attacker)
    with ape.reverts("oracle: not registry"):
        o.register_expiry(chain.blocks.head.timestamp + DAY, sender=protocol.attacker)
    with ape.reverts("ownable: caller is not the owner"):
        o.set_registry(protocol.attacker, sender=protocol.attacker)
    with ape.reverts("oracle: registry already set"):
        o.set_registry(protocol.attacker, sender=protocol.deployer)
    assert o.registry() == protocol.series.address
    expiry = _list_expiry(protocol, chain, DAY)
    assert o.is_expiry(expiry)
    with ape.reverts("oracle: not expired"):
        o.settle(expiry, sender=protocol.keeper)
    assert o.settlement_price(past) == 0


@pytest.mark.parametrize("r", [100.0, 1 / 100.0])
def test_one_block_pump_of_any_size_before_expiry_moves_nothing(protocol, chain, r):
    """x100 (for longs of calls) or /100 (for shorts, longs of puts) in the last block before
    expiry, unwound first thing the next block: the arithmetic TWAP would settle +66% / -33%;
    the feed settles, unmoved, and the pool reference (median of 30 sub-windows) moves < 0.1%."""
    p = protocol
    expiry = _list_expiry(p, chain, 3_000)
    path = _history(p, chain)
    _run_to(p, chain, expiry - 12, 60, path)
    _run_to(p, chain, expiry - 12, 12, path)
    true = p.pool.spot_price()
    _trade(p, chain, int(true * r), path, trader=p.attacker)   # the last block before expiry
    chain.mine(timestamp=expiry)
    _trade(p, chain, true, path, trader=p.attacker)             # unwound at the top of the next
    p.twap.update(sender=p.keeper)
    p.feed.submit(true, sender=p.reporter)
    chain.mine(deltatime=12)
    arithmetic = p.twap.twap_between(expiry - WINDOW, expiry)
    tx = p.oracle.settle(expiry, sender=p.keeper)
    settled = p.oracle.settlement_price(expiry)
    assert settled == true
    [log] = tx.decode_logs(p.oracle.Settled)
    assert log.rule == ref.AGREED
    pool_ref = p.oracle.pool_reference(expiry)
    assert abs(pool_ref - true) / true < 0.001
    assert pool_ref / WAD == pytest.approx(ref.sub_window_median(path, expiry - WINDOW, expiry), rel=1e-9)
    # What the old rule would have settled at: moved by up to (r - 1) x 12 / 1800. The ring
    # interpolates its cumulative linearly between observations, and the first observation after
    # the unwind lands at a time anvil takes from the wall clock, so part of the pump may be
    # smeared past the window's end: the old rule's move is in the path's direction and at most
    # the exact integral's (equal when the observation follows at once).
    exact = ref.arithmetic_twap(path, expiry - WINDOW, expiry)
    moved, bound = arithmetic / WAD - true / WAD, exact - true / WAD
    assert moved * bound > 0 and abs(moved) <= abs(bound) * (1 + 1e-6)
    assert abs(arithmetic / true - 1) > 0.3 if r > 1 else abs(arithmetic / true - 1) > 0.006


@pytest.mark.parametrize("r", [4.0, 0.25])
def test_ten_blocks_held_at_x4_move_nothing(protocol, chain, r):
    """A validator holds the pool at x4 (or /4) for the 10 blocks before expiry: the old rule
    moved the settlement price 20% (5%); now the feed settles, unmoved, and the pool
    reference (the pushes touch two of its 30 sub-windows) moves < 1%."""
    p = protocol
    expiry = _list_expiry(p, chain, 3_000)
    path = _history(p, chain)
    _run_to(p, chain, expiry - 120, 60, path)
    true = p.pool.spot_price()
    _trade(p, chain, int(true * r), path, trader=p.attacker)
    for _ in range(9):
        chain.mine(deltatime=12)
        p.twap.update(sender=p.keeper)
    chain.mine(timestamp=expiry)
    _trade(p, chain, true, path, trader=p.attacker)
    p.twap.update(sender=p.keeper)
    p.feed.submit(true, sender=p.reporter)
    p.oracle.settle(expiry, sender=p.keeper)
    assert p.oracle.settlement_price(expiry) == true
    pool_ref = p.oracle.pool_reference(expiry)
    assert abs(pool_ref - true) / true < 0.01
    assert pool_ref / WAD == pytest.approx(ref.sub_window_median(path, expiry - WINDOW, expiry), rel=1e-9)
    arithmetic = p.twap.twap_between(expiry - WINDOW, expiry)
    assert abs(arithmetic / true - 1) > 0.04


def test_a_bad_feed_print_at_expiry_defers_then_the_median_settles(protocol, chain):
    """The feed prints +10% at expiry while the pool stays: deferred (0, an event, and the series
    refuses "series: settlement deferred"); after the delay the median of (bad print, pool
    reference, the feed 30 min later) is the pool's honest price."""
    p = protocol
    expiry = _list_expiry(p, chain, 2_400)
    path = _history(p, chain)
    _run_to(p, chain, expiry - 60, 60, path)
    true = p.pool.spot_price()
    p.feed.submit(true * 11 // 10, sender=p.reporter)
    chain.mine(timestamp=expiry + 12)
    tx = p.oracle.poke(sender=p.keeper)  # the first poke after expiry records the pool reference
    assert [log.expiry for log in tx.decode_logs(p.oracle.Checkpointed)] == [expiry]
    sid = p.series.find_series(3_000 * WAD, expiry, True, False)
    tx = p.oracle.settle(expiry, sender=p.keeper)
    assert p.oracle.settlement_price(expiry) == 0
    [log] = tx.decode_logs(p.oracle.SettlementDeferred)
    assert log.feed_price == true * 11 // 10
    with ape.reverts("series: settlement deferred"):
        p.series.settle(sid, sender=p.keeper)
    _run_to(p, chain, expiry + WINDOW + 60, 60, path)  # the feed is honest again
    chain.mine(timestamp=expiry + p.oracle.settlement_delay() - 1)
    p.oracle.settle(expiry, sender=p.keeper)
    assert p.oracle.settlement_price(expiry) == 0  # still inside the delay
    chain.mine(deltatime=1)
    tx = p.series.settle(sid, sender=p.keeper)
    settled = p.oracle.settlement_price(expiry)
    witness = p.oracle.feed_price_at(expiry + WINDOW)
    expected, rule = ref.settle(true * 11 // 10, p.oracle.pool_reference(expiry), witness, 0.02, True)
    assert settled == expected and rule == ref.MEDIAN
    assert abs(settled - true) / true < 0.001


def test_pool_held_off_for_most_of_the_window_is_outvoted(protocol, chain):
    """Nobody arbitrages and the pool sits 10% high for the last 20 minutes: the pool reference
    disagrees with the feed, settlement waits, and the median is the feed's."""
    p = protocol
    expiry = _list_expiry(p, chain, 3_000)
    path = _history(p, chain)
    _run_to(p, chain, expiry - 1_200, 60, path)
    true = p.pool.spot_price()
    _trade(p, chain, true * 11 // 10, path, trader=p.attacker)
    while chain.blocks.head.timestamp + 60 <= expiry:
        chain.mine(deltatime=60)
        p.twap.update(sender=p.keeper)
        p.feed.submit(true, sender=p.reporter)
    chain.mine(timestamp=expiry)
    p.feed.submit(true, sender=p.reporter)
    p.oracle.settle(expiry, sender=p.keeper)
    assert p.oracle.settlement_price(expiry) == 0
    assert p.oracle.pool_reference(expiry) > true * 105 // 100
    chain.mine(deltatime=p.oracle.settlement_delay())
    p.feed.submit(true, sender=p.reporter)
    p.oracle.settle(expiry, sender=p.keeper)
    assert p.oracle.settlement_price(expiry) == true


@pytest.mark.parametrize("days", [1, 30, 365])
def test_an_expiry_settles_a_day_a_month_a_year_late(protocol, chain, days):
    """The first poke after expiry records the pool reference; nobody settles for `days`; the
    TWAP ring has long forgotten the window, and settlement still works, at the feed's price,
    and so does the vault writer's settlement."""
    p = protocol
    expiry = _list_expiry(p, chain, 2_400)
    sid = p.series.find_series(3_000 * WAD, expiry, True, False)
    p.weth.mint(p.writer, WAD, sender=p.deployer)
    p.weth.approve(p.vault.address, WAD, sender=p.writer)
    p.vault.write(sid, WAD, sender=p.writer)
    path = _history(p, chain)
    _run_to(p, chain, expiry + 60, 60, path)
    p.oracle.poke(sender=p.keeper)
    assert p.oracle.checkpointed_at(expiry) != 0
    true = p.pool.spot_price()
    chain.mine(deltatime=days * DAY)
    p.twap.update(sender=p.keeper)
    p.vault.settle_writer(sid, sender=p.writer)
    assert p.oracle.settlement_price(expiry) == p.oracle.feed_price_at(expiry)
    assert abs(p.oracle.settlement_price(expiry) - true) / true < 0.001
    assert p.vault.written(sid, p.writer) == 0


@pytest.mark.parametrize("days", [1, 365])
def test_nothing_recorded_still_settles_after_the_delay(build, chain, days):
    """A deployment whose ring holds 40 observations, nobody pokes the oracle after expiry and
    the ring moves past the window: no pool reference (recorded as 0 at settle), so the feed
    readings settle once the delay has passed (the mean of the feed at expiry and 30 min
    later)."""
    p = build.protocol(Params(twap_cardinality=40, twap_min_spacing=60))
    expiry = _list_expiry(p, chain, 2_400)
    path = _history(p, chain)
    _run_to(p, chain, expiry + 2_700, 60, path)  # 45 min more of observations: the ring forgets
    assert p.twap.oldest_timestamp() > expiry - WINDOW
    chain.mine(deltatime=days * DAY)
    p.oracle.settle(expiry, sender=p.keeper)
    assert p.oracle.checkpointed_at(expiry) != 0 and p.oracle.pool_reference(expiry) == 0
    f, g = p.oracle.feed_price_at(expiry), p.oracle.feed_price_at(expiry + WINDOW)
    assert p.oracle.settlement_price(expiry) == (f + g) // 2 != 0


def test_poke_checkpoints_the_earliest_due_expiry_once(protocol, chain):
    p = protocol
    e2 = _list_expiry(p, chain, 1_200)
    e1 = _list_expiry(p, chain, 600)
    assert p.oracle.next_checkpoint() <= e1 < e2
    path = _history(p, chain)
    _run_to(p, chain, e1 + 12, 12 * 5, path)
    tx = p.oracle.poke(sender=p.keeper)
    assert [log.expiry for log in tx.decode_logs(p.oracle.Checkpointed)] == [e1]
    assert p.oracle.next_checkpoint() == e2
    tx = p.oracle.poke(sender=p.keeper)
    assert tx.decode_logs(p.oracle.Checkpointed) == []
    _run_to(p, chain, e2 + 12, 60, path)
    tx = p.oracle.poke(sender=p.keeper)
    assert [log.expiry for log in tx.decode_logs(p.oracle.Checkpointed)] == [e2]
    assert p.oracle.next_checkpoint() == 0


def test_settlement_parameters_bounded_and_owner_only(protocol):
    o = protocol.oracle
    assert (o.settlement_deviation(), o.settlement_delay()) == (2 * 10**16, 6 * 3_600)
    with ape.reverts("ownable: caller is not the owner"):
        o.set_settlement_parameters(WAD // 50, 3_600, sender=protocol.attacker)
    with ape.reverts("oracle: deviation out of bounds"):
        o.set_settlement_parameters(WAD // 201, 3_600, sender=protocol.deployer)
    with ape.reverts("oracle: deviation out of bounds"):
        o.set_settlement_parameters(WAD // 10 + 1, 3_600, sender=protocol.deployer)
    with ape.reverts("oracle: delay out of bounds"):
        o.set_settlement_parameters(WAD // 50, 3_599, sender=protocol.deployer)
    with ape.reverts("oracle: delay out of bounds"):
        o.set_settlement_parameters(WAD // 50, 7 * DAY + 1, sender=protocol.deployer)
    o.set_settlement_parameters(WAD // 10, 7 * DAY, sender=protocol.deployer)
    assert (o.settlement_deviation(), o.settlement_delay()) == (WAD // 10, 7 * DAY)


def test_feed_reading_at_a_time_matches_the_reference(protocol, chain):
    p = protocol
    rounds = []
    for i, dt in enumerate((100, 500, 4_000, 30, 7_200)):
        chain.mine(deltatime=dt)
        tx = p.feed.submit((3_000 + i) * WAD, sender=p.reporter)
        rounds.append((tx.timestamp, (3_000 + i) * WAD))
    chain.mine(deltatime=10)
    max_age = p.oracle.max_age()
    for t, _ in rounds:
        for probe in (t - 3_700, t - 1, t, t + 1, t + 3_599, t + 3_601):
            if probe <= chain.blocks.head.timestamp:
                history = [(chain.blocks[0].timestamp, 3_000 * WAD)] + rounds  # the deploy's round
                expected = ref.feed_at(history, probe, max_age)
                assert p.oracle.feed_price_at(probe) == expected, probe
