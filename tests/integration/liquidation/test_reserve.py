"""The liquidation reserve (gas compensation, Liquity-style; InsuranceFund): posted before a short
is opened, refunded when the positions close, paid to whoever liquidates the account, useless for
self-liquidation; the keeper's reward against its gas on a minimum-size position at 30 / 500 /
1,000 gwei; and the gas-path views (`valuation`, `appraise`) against the engine's margin and the
mechanisms' MtM. Reserve amounts against `dsi/reference/liquidation.py`."""

from __future__ import annotations

import ape
import pytest

from dsi.reference import liquidation as L

from conftest import TAKER_SUB, WAD

ALL = 2**255 - 1
NOT_OWNER = "ownable: caller is not the owner"
RESERVE = (L.RESERVE_BASE_GAS, L.RESERVE_POSITION_GAS, L.RESERVE_GAS_PRICE_GWEI * 10**9)


def _enable(world):
    world.fund.set_reserve(*RESERVE, sender=world.p.deployer)


def _post(world, account, sub: int, amount: int):
    p = world.p
    p.weth.mint(account, amount, sender=p.deployer)
    p.weth.approve(world.fund.address, amount, sender=account)
    world.fund.post_reserve(sub, amount, sender=account)


def _taken_fraction(liq, tx) -> int:
    (event,) = [e for e in tx.events if e.event_name == "Liquidated" and e.contract_address == liq.address]
    return event.fraction


def _start(name, liq, owner, sub, keeper):
    if name == "dutch":
        return liq.start(owner, sub, sender=keeper)
    return None


def test_reserve_matches_reference_and_gates_open_short(world):
    p, fund, engine = world.p, world.fund, world.engine
    assert fund.reserve_gas_price() == 0 and fund.reserve_required(3) == 0  # off by default
    _enable(world)
    for n in (0, 1, 8, 32):
        assert fund.reserve_required(n) == L.reserve_required(n)
    sub = 5
    world.fund_account(p.writer, 100_000, sub)
    put, put2 = world.ids[(2700, False)], world.ids[(2400, False)]
    with ape.reverts("margin: liquidation reserve"):
        engine.open_short(sub, put, WAD, sender=p.writer)
    _post(world, p.writer, sub, L.reserve_required(1) - 1)
    with ape.reverts("margin: liquidation reserve"):
        engine.open_short(sub, put, WAD, sender=p.writer)
    _post(world, p.writer, sub, 1)
    engine.open_short(sub, put, WAD, sender=p.writer)
    assert fund.reserve_covers(p.writer, sub, 1) and not fund.reserve_covers(p.writer, sub, 2)
    with ape.reverts("margin: liquidation reserve"):  # a second position needs more
        engine.open_short(sub, put2, WAD, sender=p.writer)
    _post(world, p.writer, sub, L.reserve_required(2) - L.reserve_required(1))
    engine.open_short(sub, put2, WAD, sender=p.writer)
    assert fund.reserves(p.writer, sub) == fund.total_reserves() == L.reserve_required(2)
    assert fund.capital() == 20_000 * 10**6  # a reserve is not capital


def test_reserve_refunded_when_positions_close(world):
    p, fund, engine = world.p, world.fund, world.engine
    _enable(world)
    sub, put = 6, world.ids[(2700, False)]
    held = L.reserve_required(1)
    world.fund_account(p.writer, 100_000, sub)
    _post(world, p.writer, sub, held)
    engine.open_short(sub, put, WAD, sender=p.writer)
    with ape.reverts("fund: reserve required"):
        fund.withdraw_reserve(sub, 1, sender=p.writer)
    with ape.reverts("fund: insufficient reserve"):
        fund.withdraw_reserve(sub, held + 1, sender=p.writer)
    with ape.reverts("fund: zero amount"):
        fund.withdraw_reserve(sub, 0, sender=p.writer)
    with ape.reverts("fund: zero amount"):
        fund.post_reserve(sub, 0, sender=p.writer)
    engine.close_short(sub, put, WAD, sender=p.writer)  # the writer holds the minted longs
    before = p.weth.balanceOf(p.writer)
    tx = fund.withdraw_reserve(sub, held, sender=p.writer)
    assert p.weth.balanceOf(p.writer) - before == held
    assert fund.reserves(p.writer, sub) == 0 and fund.total_reserves() == 0
    assert tx.events[-1].amount == held


def test_reserve_paid_to_the_liquidator(world, mechanism, underwater):
    name, liq = mechanism
    p, fund = world.p, world.fund
    _enable(world)
    held = L.reserve_required(1)
    _post(world, p.writer, 7, held)
    owner, sub = underwater(2_600, sub=7, shorts=[(2700, False, 10)])
    _start(name, liq, owner, sub, p.keeper)
    weth = p.weth.balanceOf(p.keeper)
    tx = liq.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper)
    # The fraction the take itself closed (a Dutch quote decays per second: a quote one block
    # earlier would differ with the wall clock of the node).
    fraction = _taken_fraction(liq, tx)
    to_taker, to_starter = L.reserve_payout(held, fraction, starter_is_other=False)
    assert to_starter == 0 and to_taker > 0
    assert p.weth.balanceOf(p.keeper) - weth == to_taker
    assert fund.reserves(owner, sub) == held - to_taker


def test_dutch_reserve_split_between_starter_and_taker(world, underwater):
    p, fund = world.p, world.fund
    liq = world.use("dutch")
    _enable(world)
    held = L.reserve_required(1)
    _post(world, p.writer, 7, held)
    owner, sub = underwater(2_600, sub=7, shorts=[(2700, False, 10)])
    liq.start(owner, sub, sender=p.buyer)
    w_buyer, w_keeper = p.weth.balanceOf(p.buyer), p.weth.balanceOf(p.keeper)
    tx = liq.take(owner, sub, TAKER_SUB, WAD, ALL, sender=p.keeper)
    to_taker, to_starter = L.reserve_payout(held, _taken_fraction(liq, tx), starter_is_other=True)
    assert to_starter > 0
    assert p.weth.balanceOf(p.buyer) - w_buyer == to_starter
    assert p.weth.balanceOf(p.keeper) - w_keeper == to_taker


def test_self_liquidation_with_a_reserve_is_unprofitable(world, mechanism):
    """The reserve is the account's own money: liquidating oneself only gets it back, and the
    fund's fee is still lost (Euler 2023)."""
    name, liq = mechanism
    p, fund = world.p, world.fund
    attacker = p.attacker
    _enable(world)
    sub = 8
    _post(world, attacker, sub, L.reserve_required(1))
    world.open_book(attacker, sub, [(2700, False, 10)], 1.02)
    world.move(2_600)
    spot = p.oracle.price()[0] / WAD

    def wealth():
        return ((liq.mtm(attacker, sub)[0] + liq.mtm(attacker, TAKER_SUB)[0]) / WAD + p.usd.balanceOf(attacker) / 1e6
                + (p.weth.balanceOf(attacker) + fund.reserves(attacker, sub)) / WAD * spot)

    before = wealth()
    _start(name, liq, attacker, sub, attacker)
    liq.take(attacker, sub, TAKER_SUB, WAD, ALL, sender=attacker)
    assert wealth() - before <= 0


def test_keeper_reward_vs_gas_on_a_minimum_size_position(node_world, node_mechanism):
    """Keeper reward vs gas cost at 30 / 500 / 1,000 gwei for a minimum-size (0.01 option)
    position: the discount alone is cents; with the reserve the keeper profits at 1,000 gwei.
    On anvil: the gas is the receipts' (revm under-counts cold storage)."""
    world = node_world
    name, liq = node_mechanism
    p, fund = world.p, world.fund
    keeper = p.keeper
    _enable(world)
    sub = 9
    _post(world, p.writer, sub, L.reserve_required(1))
    world.open_book(p.writer, sub, [(2700, False, 0.01)], 1.02)
    world.move(2_600)
    assert liq.is_liquidatable(p.writer, sub)
    eth = p.oracle.price()[0] / WAD
    usd0, weth0, mtm0 = p.usd.balanceOf(keeper), p.weth.balanceOf(keeper), liq.mtm(keeper, TAKER_SUB)[0]
    gas = start_gas = 0
    tx = _start(name, liq, p.writer, sub, keeper)
    if tx is not None:
        gas += tx.gas_used
        start_gas = tx.gas_used
    gas += liq.take(p.writer, sub, TAKER_SUB, WAD, ALL, sender=keeper).gas_used
    discount = (liq.mtm(keeper, TAKER_SUB)[0] - mtm0) / WAD + (p.usd.balanceOf(keeper) - usd0) / 1e6
    reserve = (p.weth.balanceOf(keeper) - weth0) / WAD
    line = [f"keeper {name} min-size: gas {gas:,} (start {start_gas:,}), discount {discount:.4f} USD, reserve {reserve:.4f} ETH"]
    for gwei in (30, 500, 1_000):
        line.append(f"{gwei} gwei: cost {gas * gwei * 1e-9 * eth:,.2f} USD, "
                    f"profit {L.keeper_profit(discount, reserve, gas, gwei, eth):,.2f} USD")
    print("; ".join(line))
    assert L.keeper_net(discount, gas, 30, eth) < 0  # without the reserve: not worth it even at 30 gwei
    assert L.keeper_profit(discount, reserve, gas, 1_000, eth) > 0
    assert fund.reserves(p.writer, sub) == 0  # taken whole: the whole reserve paid


def test_reserve_access_control_and_bounds(world):
    p, fund, engine = world.p, world.fund, world.engine
    with ape.reverts(NOT_OWNER):
        fund.set_reserve(*RESERVE, sender=p.attacker)
    with ape.reverts("fund: not liquidator"):
        fund.pay_reserve(p.writer, 0, WAD, p.attacker, p.attacker, sender=p.attacker)
    with ape.reverts("fund: reserve out of bounds"):
        fund.set_reserve(5_000_001, 0, 0, sender=p.deployer)
    with ape.reverts("fund: reserve out of bounds"):
        fund.set_reserve(0, 5_000_001, 0, sender=p.deployer)
    with ape.reverts("fund: reserve out of bounds"):
        fund.set_reserve(0, 0, 10**13 + 1, sender=p.deployer)
    tx = fund.set_reserve(*RESERVE, sender=p.deployer)
    assert (fund.reserve_base_gas(), fund.reserve_position_gas(), fund.reserve_gas_price()) == RESERVE
    assert tx.events[0].gas_price == RESERVE[2]
    with ape.reverts("margin: not liquidator"):
        engine.appraise(p.writer, 0, sender=p.attacker)


def test_position_out_of_range_is_refused(world):
    """Positions are stored two to a word (id << 96 | amount as int96 in each half): a short of
    more than 2^95 WAD units (3.9e10 options) reverts and nothing is stored."""
    p = world.p
    world.fund_account(p.writer, 1_000, 4)
    sid = world.ids[(2700, False)]
    with ape.reverts("margin: position out of range"):
        world.engine.open_short(4, sid, 2**95 + 1, sender=p.writer)
    with ape.reverts("margin: position out of range"):
        world.engine.open_short(4, sid, 2**192, sender=p.writer)
    assert world.engine.account(p.writer, 4)[3] == 0


def test_balance_out_of_range_is_refused(world):
    """Mode, position count and both collateral balances share one word (120 bits per balance):
    a deposit taking a balance to 2^120 reverts with nothing moved; 2^120 - 1 is stored exactly."""
    p, engine = world.p, world.engine
    top = 2**120 - 1
    p.weth.mint(p.writer, top + 1, sender=p.deployer)
    p.weth.approve(engine.address, top + 1, sender=p.writer)
    with ape.reverts("margin: balance out of range"):
        engine.deposit(7, 0, top + 1, sender=p.writer)
    assert engine.account(p.writer, 7) == (0, 0, 0, 0)
    assert p.weth.balanceOf(p.writer) == top + 1
    engine.deposit(7, 0, top, sender=p.writer)
    mode, usd, weth, n = engine.account(p.writer, 7)
    assert weth == top and n == 0 and mode == 0
    with ape.reverts("margin: balance out of range"):
        engine.deposit(7, 0, 1, sender=p.writer)


def test_valuation_matches_margin_and_the_reference_mtm(world, underwater):
    """One pricing pass (`valuation`) gives the engine's margin and the MtM / gross the mechanisms
    price with (against the reference model); packed positions round-trip, shorts and a custody
    long."""
    from test_properties import _reference_mtm

    p, engine = world.p, world.engine
    world.use("fixed")
    owner, sub = underwater(2_600, sub=3, shorts=[(2700, False, 10), (2400, False, 5), (3300, True, 2)])
    put = world.ids[(2100, False)]
    world.fund_account(p.writer, 100_000, 11)
    engine.open_short(11, put, 2 * WAD, sender=p.writer)  # the 2 longs are minted to the writer
    world.fund_account(p.writer, 1_000, 12)
    p.option_token.setApprovalForAll(engine.address, True, sender=p.writer)
    engine.deposit_long(12, put, 2 * WAD, sender=p.writer)
    assert [tuple(x) for x in engine.positions(p.writer, 12)] == [(put, 2 * WAD)]
    assert sorted(x.amount for x in engine.positions(owner, sub)) == [-10 * WAD, -5 * WAD, -2 * WAD]
    for s in (sub, 12):
        v = engine.valuation(p.writer, s)
        assert tuple(v.margin) == tuple(engine.margin(p.writer, s))
        assert v.positions == engine.account(p.writer, s)[3] == len(engine.positions(p.writer, s))
        mtm, gross = _reference_mtm(world, p.writer, s)
        assert v.mtm / WAD == pytest.approx(mtm, rel=1e-6, abs=1e-6)
        assert v.gross / WAD == pytest.approx(gross, rel=1e-6, abs=1e-6)
