"""ProtocolOracle: statuses, the primary -> secondary -> last good price order, bounded
parameters, access control, latency and settlement."""

import ape

from dsi.agents.arbitrageur import trade_to_price

WAD = 10**18
FRESH, STALE, DEVIANT, FALLBACK, FROZEN = range(5)
SOURCE_FEED, SOURCE_TWAP, SOURCE_LAST_GOOD = 1, 2, 3


def test_fresh_after_deploy_uses_the_feed(protocol):
    price, status = protocol.oracle.price()
    assert status == FRESH
    assert price == 3000 * WAD
    assert protocol.oracle.last_good_price() == 3000 * WAD


def test_feed_update_within_deviation_is_fresh(protocol, build_history):
    build_history(1_800)
    protocol.feed.submit(3_090 * WAD, sender=protocol.reporter)
    assert protocol.oracle.price() == (3_090 * WAD, FRESH)


def test_fast_market_is_fresh_a_pump_is_deviant(protocol, build_history):
    """The spot-vs-TWAP guard is monotone in the size of a move: with the feed following spot, a
    3%, 7% or 12% drop below the 30-minute TWAP is FRESH at the feed price (two independent
    sources moved: a fast market, and liquidation must not wait for the TWAP); spot moving alone
    by 7% (the feed still at the TWAP) is DEVIANT at the feed price (a pump or a dump)."""
    o = protocol.oracle
    build_history(1_800)
    protocol.feed.submit(3_000 * WAD, sender=protocol.reporter)
    assert o.price() == (3_000 * WAD, FRESH)
    trade_to_price(protocol, 2_790 * WAD)  # spot alone -7%
    assert o.price() == (3_000 * WAD, DEVIANT)
    for price in (2_910, 2_790, 2_640):  # -3%, -7%, -12%: the feed follows
        trade_to_price(protocol, price * WAD)
        protocol.feed.submit(price * WAD, sender=protocol.reporter)
        assert abs(protocol.twap.twap(o.twap_window()) - 3_000 * WAD) < 30 * WAD  # the TWAP lags
        assert o.price() == (price * WAD, FRESH), price


def test_stale_feed_falls_back_to_twap(protocol, build_history):
    """Past max_age the feed is ignored and the TWAP (with enough history) is the price."""
    build_history(3_660)
    reading = protocol.oracle.reading()
    assert reading.status == FALLBACK
    assert reading.source == SOURCE_TWAP
    assert reading.price == protocol.twap.twap(protocol.oracle.twap_window())
    tx = protocol.oracle.poke(sender=protocol.keeper)
    assert [log.new_status for log in tx.decode_logs(protocol.oracle.StatusChanged)] == [FALLBACK]
    assert [log.new_source for log in tx.decode_logs(protocol.oracle.SourceSwitched)] == [SOURCE_TWAP]


def test_stale_when_no_source_is_usable(project, protocol, chain):
    twap = project.TwapOracle.deploy(protocol.pool.address, 16, 12, sender=protocol.deployer)
    # A one-day TWAP window with one hour of history: the TWAP is unavailable.
    oracle = project.ProtocolOracle.deploy(protocol.feed.address, twap.address, 1_800, 3_600, WAD // 10,
                                           WAD // 20, 86_400, sender=protocol.deployer)
    oracle.poke(sender=protocol.keeper)  # fresh: records the last good price
    good_at = oracle.last_good_at()
    chain.mine(deltatime=3_601)
    reading = oracle.reading()
    assert (reading.price, reading.status, reading.source) == (3000 * WAD, STALE, SOURCE_LAST_GOOD)
    assert oracle.latency() == chain.blocks.head.timestamp - good_at
    assert oracle.latency() >= 3_601


def test_latency_is_feed_age_when_fresh(protocol, chain):
    protocol.feed.submit(3000 * WAD, sender=protocol.reporter)
    t = chain.blocks.head.timestamp
    chain.mine(deltatime=100)
    assert protocol.oracle.latency() == chain.blocks.head.timestamp - t


def test_freeze_holds_last_good_price(protocol):
    with ape.reverts("ownable: caller is not the owner"):
        protocol.oracle.set_frozen(True, sender=protocol.attacker)
    protocol.oracle.set_frozen(True, sender=protocol.deployer)
    protocol.feed.submit(2_900 * WAD, sender=protocol.reporter)
    assert protocol.oracle.price() == (3000 * WAD, FROZEN)
    protocol.oracle.set_frozen(False, sender=protocol.deployer)
    assert protocol.oracle.price()[1] == FRESH


def test_parameters_bounded_and_owner_only(protocol):
    o = protocol.oracle
    with ape.reverts("ownable: caller is not the owner"):
        o.set_parameters(3_600, WAD // 10, WAD // 20, 1_800, sender=protocol.attacker)
    with ape.reverts("oracle: max age out of bounds"):
        o.set_parameters(59, WAD // 10, WAD // 20, 1_800, sender=protocol.deployer)
    with ape.reverts("oracle: max age out of bounds"):
        o.set_parameters(86_401, WAD // 10, WAD // 20, 1_800, sender=protocol.deployer)
    with ape.reverts("oracle: deviation out of bounds"):
        o.set_parameters(3_600, WAD // 201, WAD // 20, 1_800, sender=protocol.deployer)
    with ape.reverts("oracle: deviation out of bounds"):
        o.set_parameters(3_600, WAD // 10, WAD // 2 + 1, 1_800, sender=protocol.deployer)
    with ape.reverts("oracle: window out of bounds"):
        o.set_parameters(3_600, WAD // 10, WAD // 20, 59, sender=protocol.deployer)
    tx = o.set_parameters(60, WAD // 200, WAD // 2, 86_400, sender=protocol.deployer)
    assert (o.max_age(), o.max_deviation(), o.max_spot_deviation(), o.twap_window()) == (60, WAD // 200, WAD // 2, 86_400)
    assert len(tx.decode_logs(o.ParametersSet)) == 1


def test_feed_reporter_only_and_positive(protocol):
    with ape.reverts("feed: not reporter"):
        protocol.feed.submit(3000 * WAD, sender=protocol.attacker)
    with ape.reverts("feed: answer not positive"):
        protocol.feed.submit(0, sender=protocol.reporter)
    with ape.reverts("feed: answer not positive"):
        protocol.feed.submit(-1, sender=protocol.reporter)
    with ape.reverts("ownable: caller is not the owner"):
        protocol.feed.set_reporter(protocol.attacker, True, sender=protocol.attacker)
    with ape.reverts("feed: no such round"):
        protocol.feed.get_round_data(99)


def test_poke_caches_the_twap_for_one_minute(protocol, chain, build_history):
    """A keeper's poke stores the TWAP; reads within 60 s use it, later reads compute it live,
    and a window change drops it."""
    o = protocol.oracle
    build_history(1_800)
    tx = o.poke(sender=protocol.keeper)
    cached, at = o.cached_twap()
    assert at == tx.timestamp
    assert cached == protocol.twap.twap(o.twap_window())
    # The market moves 10% within the minute: the cached TWAP is what the checks use.
    trade_to_price(protocol, 2_700 * WAD)
    chain.mine(deltatime=30)
    assert o.cached_twap() == (cached, at)
    # The pump is still seen at once: spot is read live against the cached TWAP.
    assert o.price()[1] == DEVIANT
    # Past the TTL the live TWAP (now pulled down by the move) replaces the cache.
    chain.mine(deltatime=31)
    protocol.twap.update(sender=protocol.keeper)
    live = protocol.twap.twap(o.twap_window())
    assert live < cached
    reading = o.reading()
    assert reading.status == DEVIANT and reading.source == SOURCE_FEED
    o.set_parameters(o.max_age(), o.max_deviation(), o.max_spot_deviation(), 900, sender=protocol.deployer)
    assert o.cached_twap() == (0, 0)


def test_cached_twap_agrees_with_live_evaluation(protocol, build_history):
    """Right after a poke the cached and live evaluations give the same reading."""
    o = protocol.oracle
    build_history(1_800)
    live = o.reading()
    o.poke(sender=protocol.keeper)
    assert o.reading() == live
