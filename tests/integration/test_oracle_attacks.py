"""Adversarial oracle tests, each modelled on a real event."""

import math

import ape

from dsi.agents.arbitrageur import amount_to_price, trade_to_price

WAD = 10**18
FRESH, STALE, DEVIANT, FALLBACK, FROZEN = range(5)


def test_same_block_flash_pump_bzx_2020(project, protocol, build_history):
    """bZx 2020: a flash loan pumps pool spot 10x inside one transaction. The TWAP does not
    move, the protocol price stays at the feed and flags DEVIANT, so nothing can act at the
    pumped price."""
    build_history(1_800)
    twap_before = protocol.twap.twap(1_800)
    attacker = project.OraclePumpAttacker.deploy(protocol.lender.address, protocol.pool.address,
                                                 protocol.oracle.address, protocol.twap.address,
                                                 sender=protocol.attacker)
    # USD needed for 10x: y' = y * sqrt(10), plus fees; the attacker pays fees itself.
    side, amount = amount_to_price(protocol.pool.reserve0(), protocol.pool.reserve1(), 30_000 * WAD,
                                   protocol.pool.fee_bps())
    assert side == "usd"
    protocol.usd.mint(attacker.address, amount // 20, sender=protocol.deployer)
    attacker.attack(protocol.usd.address, amount, sender=protocol.attacker)
    assert attacker.spot_pumped() >= 9 * attacker.spot_before()
    assert attacker.twap_pumped() == twap_before
    assert attacker.oracle_price_pumped() == 3000 * WAD
    assert attacker.oracle_status_pumped() == DEVIANT
    # After the transaction: spot back near 3000 (fees aside), oracle fresh at the feed.
    assert abs(attacker.spot_after() - 3000 * WAD) < 3000 * WAD // 100
    assert protocol.oracle.price() == (3000 * WAD, FRESH)


def test_multi_block_push_moves_twap_by_held_fraction(protocol, chain, build_history):
    """A validator with k consecutive slots holds spot +50% for k blocks: the 30-minute TWAP
    moves by about k * 12 / 1800 of the move, and the cost of a 20% TWAP move is printed."""
    build_history(1_800, step=12 * 25)
    base = protocol.twap.twap(1_800)
    k = 10
    trade_to_price(protocol, 4_500 * WAD, trader=protocol.attacker)
    for _ in range(k):
        chain.mine(deltatime=12)
        protocol.twap.update(sender=protocol.attacker)
    moved = protocol.twap.twap(1_800) / base - 1
    expected = (k * 12 + 3) / 1_800 * 0.5  # +3 s: the blocks of the pump itself
    assert moved <= expected * 1.2
    assert moved >= (k * 12) / 1_800 * 0.5 * 0.8
    # Cost of moving the TWAP 20% with the default depth (1,000 WETH / 3M USD) and window:
    # hold factor m for k blocks with (m - 1) * k * 12 / 1800 = 0.2. With consecutive slots
    # (no arbitrage in between) the cost is the two swap fees on the pump; with an arbitrageur
    # in every block it is the arbitrage loss per block.
    y0 = protocol.pool.reserve1() / 1e6
    fee = protocol.pool.fee_bps() / 1e4
    print("\nTWAP push cost to move the 30-min TWAP by 20% (pool 1,000 WETH / 3M USD, fee 30 bps):")
    for slots in (5, 10, 30, 150):
        m = 1 + 0.2 * 1_800 / (slots * 12)
        pump_usd = y0 * (math.sqrt(m) - 1)
        fees_only = 2 * fee * pump_usd
        # Constant-product round trip against an arbitrageur restoring the price each block:
        # attacker buys x WETH at avg price, arb sells back; loss ~= y0 * (sqrt(m) - 1)^2 / sqrt(m).
        arb_loss = slots * y0 * (math.sqrt(m) - 1) ** 2 / math.sqrt(m)
        print(f"  {slots:>4} blocks: pump x{m:5.2f}, {pump_usd/1e6:6.2f}M USD in, cost {fees_only/1e3:8.1f}k USD "
              f"(consecutive slots) / {arb_loss/1e6:8.2f}M USD (arbitraged every block)")
    assert moved < 0.2


def test_frozen_feed_luna_2022(protocol, chain, build_history):
    """LUNA 2022: the feed sticks at 3000 while the market falls 90%. Within max_age the stuck
    feed disagrees with TWAP and spot and is flagged; after max_age the feed is stale and the
    price is the TWAP, never the frozen value."""
    build_history(1_800)
    path = [3000 * (1 - 0.9 * i / 30) for i in range(1, 31)]  # -90% over 30 steps of 2 min
    statuses = []
    for p in path:
        trade_to_price(protocol, int(p * WAD))
        chain.mine(deltatime=120)
        protocol.twap.update(sender=protocol.keeper)
        price, status = protocol.oracle.price()
        statuses.append(status)
        assert status != FRESH or price <= 3000 * WAD
    price, status = protocol.oracle.price()
    assert status in (FALLBACK, DEVIANT)  # feed stale (> 1 h): the TWAP
    assert price == protocol.twap.twap(1_800)
    assert price < 3000 * WAD * 0.4
    assert statuses[-1] != FRESH
    assert DEVIANT in statuses  # the stuck feed was flagged before it went stale


def test_single_source_bad_print_compound_dai_2020(protocol, build_history):
    """One venue prints +35%: the print disagrees with both TWAP and spot and is rejected;
    the last good price holds; poke records DEVIANT and does not move the last good price."""
    build_history(1_800)
    protocol.oracle.poke(sender=protocol.keeper)
    protocol.feed.submit(int(3000 * 1.35) * WAD, sender=protocol.reporter)
    price, status = protocol.oracle.price()
    assert (price, status) == (3000 * WAD, DEVIANT)
    tx = protocol.oracle.poke(sender=protocol.keeper)
    assert protocol.oracle.last_good_price() == 3000 * WAD
    assert [log.new_status for log in tx.decode_logs(protocol.oracle.StatusChanged)] == [DEVIANT]
    # The next honest print restores FRESH.
    protocol.feed.submit(3_010 * WAD, sender=protocol.reporter)
    assert protocol.oracle.price() == (3_010 * WAD, FRESH)


def test_genuine_gap_is_accepted_when_feed_and_spot_agree(protocol, build_history):
    """10 October 2025: -26% in one update. Feed and spot move together (two independent
    sources), so the oracle follows the market instead of holding a stale price."""
    build_history(1_800)
    trade_to_price(protocol, 2_220 * WAD)
    protocol.feed.submit(2_220 * WAD, sender=protocol.reporter)
    # Both are 26% off the 30-min TWAP but agree with each other: FRESH at the market price,
    # so liquidations keep up with the gap instead of waiting for the TWAP.
    assert protocol.oracle.price() == (2_220 * WAD, FRESH)
    # A feed gap the spot does not confirm is a bad print instead.
    protocol.feed.submit(1_600 * WAD, sender=protocol.reporter)
    assert protocol.oracle.price() == (3000 * WAD, DEVIANT)


def test_bad_input_reverts_and_changes_nothing(protocol):
    with ape.reverts("twap: empty interval"):
        protocol.twap.twap_between(100, 100)
    with ape.reverts("twap: interval in the future"):
        protocol.twap.twap_between(1, 2**40)
    assert protocol.oracle.price() == (3000 * WAD, FRESH)
