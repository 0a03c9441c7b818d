"""MarginEngine limits and system views: the 32-position cap and what a full account costs in
every mode, dust, isolated accounts, mode switches, open interest, collateral adequacy."""

import ape
import pytest

from dsi.bench.report import exec_gas_view
from dsi.reference import margin as M

WAD = 10**18
ISOLATED, CROSS, PORTFOLIO = 0, 1, 2
BLOCK_GAS = 30_000_000


def _list(w, strikes_and_kinds):
    p = w.protocol
    ids = []
    for strike, is_call in strikes_and_kinds:
        sid = p.series.find_series(strike * WAD, w.expiry, is_call, False)
        if sid == 0:
            p.series.list_series(strike * WAD, w.expiry, is_call, False, sender=p.deployer)
            sid = p.series.find_series(strike * WAD, w.expiry, is_call, False)
        ids.append(sid)
    return ids


def test_position_cap_and_a_full_account_fits_a_block_in_every_mode(node_margin_world, node_fund_account):
    """On anvil: the gas of a full account's checks (revm under-counts cold storage)."""
    w, fund_account = node_margin_world, node_fund_account
    p = w.protocol
    writer = p.writer
    ids = _list(w, [(1500 + 50 * i, (1500 + 50 * i) >= 3000) for i in range(33)])
    fund_account(writer, 1_000_000)
    w.engine.set_mode(0, CROSS, sender=writer)
    for sid in ids[:32]:
        w.engine.open_short(0, sid, WAD // 10, sender=writer)
    assert w.engine.account(writer, 0)[3] == 32
    with ape.reverts("margin: too many positions"):
        w.engine.open_short(0, ids[32], WAD // 10, sender=writer)
    # Adding to an existing position is not a new one.
    w.engine.open_short(0, ids[0], WAD // 10, sender=writer)
    gas = {"cross": exec_gas_view(w.engine, "margin", writer, 0, sender=writer)}
    receipt = w.engine.set_mode(0, PORTFOLIO, sender=writer)  # a full live check in one transaction
    gas["portfolio live (set_mode tx)"] = receipt.gas_used
    gas["portfolio live"] = exec_gas_view(w.engine, "margin", writer, 0, sender=writer)
    for sid in ids[:32]:
        p.risk_arrays.refresh(sid, sender=p.keeper)
    gas["portfolio arrays"] = exec_gas_view(w.engine, "margin", writer, 0, sender=writer)
    fund_account(writer, 10_000, sub=1)
    w.engine.open_short(1, ids[0], WAD, sender=writer)  # sub 1 is isolated (mode 0)
    gas["isolated"] = exec_gas_view(w.engine, "margin", writer, 1, sender=writer)
    # "Comfortably": every check of a full account takes under a third of a 30M block.
    assert all(g < BLOCK_GAS // 3 for g in gas.values()), gas
    assert gas["portfolio arrays"] <= 2_000_000 and gas["portfolio arrays"] < gas["portfolio live"] // 4, gas


def test_dust_below_min_size(margin_world, fund_account):
    w = margin_world
    p = w.protocol
    writer = p.writer
    fund_account(writer, 5_000)
    min_size = p.series.min_size()
    assert min_size == WAD // 100
    with ape.reverts("margin: below min size"):
        w.engine.open_short(0, w.ids[(2400, False)], min_size - 1, sender=writer)
    w.engine.open_short(0, w.ids[(2400, False)], min_size, sender=writer)
    assert w.engine.positions(writer, 0)[0].amount == -min_size


def test_isolated_single_position_requirement(margin_world, fund_account, chain):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 2_000)
    assert w.engine.account(writer, 0)[0] == ISOLATED
    w.engine.open_short(0, w.ids[(3300, True)], WAD, sender=writer)
    market, tte = w.market(chain)
    book = [M.Position(3300.0, tte, True, -1.0)]
    m = w.engine.margin(writer, 0)
    assert m.initial / WAD == pytest.approx(M.standard(book, market), rel=1e-9)
    assert m.maintenance / WAD == pytest.approx(M.standard(book, market, maintenance=True), rel=1e-9)
    assert m.equity == 2_000 * 99 * WAD // 100


def test_mode_switches(margin_world, fund_account, chain):
    w = margin_world
    p = w.protocol
    writer = p.writer
    # A call spread: short 3300 in sub 0, the 3600 long written in sub 1 and deposited.
    fund_account(writer, 5_000, sub=1)
    w.engine.set_mode(1, CROSS, sender=writer)
    w.engine.open_short(1, w.ids[(3600, True)], WAD, sender=writer)
    p.option_token.setApprovalForAll(w.engine.address, True, sender=writer)
    fund_account(writer, 300, sub=0)
    w.engine.set_mode(0, PORTFOLIO, sender=writer)
    w.engine.deposit_long(0, w.ids[(3600, True)], WAD, sender=writer)
    w.engine.open_short(0, w.ids[(3300, True)], WAD, sender=writer)
    market, tte = w.market(chain)
    book = [M.Position(3300.0, tte, True, -1.0), M.Position(3600.0, tte, True, 1.0)]
    assert w.engine.margin(writer, 0).initial / WAD == pytest.approx(M.portfolio(book, market), rel=1e-9)
    # Cross margin gives the long no credit: 300 USD is not enough there, the switch is refused.
    assert M.standard(book, market) > 300
    with ape.reverts("margin: below initial margin"):
        w.engine.set_mode(0, CROSS, sender=writer)
    with ape.reverts("margin: isolated holds one position"):
        w.engine.set_mode(0, ISOLATED, sender=writer)
    fund_account(writer, 1_000, sub=0)
    w.engine.set_mode(0, CROSS, sender=writer)
    assert w.engine.account(writer, 0)[0] == CROSS
    market, tte = w.market(chain)
    book = [M.Position(3300.0, tte, True, -1.0), M.Position(3600.0, tte, True, 1.0)]
    assert w.engine.margin(writer, 0).initial / WAD == pytest.approx(M.standard(book, market), rel=1e-9)
    w.engine.set_mode(0, PORTFOLIO, sender=writer)
    market, tte = w.market(chain)
    book = [M.Position(3300.0, tte, True, -1.0), M.Position(3600.0, tte, True, 1.0)]
    assert w.engine.margin(writer, 0).initial / WAD == pytest.approx(M.portfolio(book, market), rel=1e-9)


def test_open_interest_is_the_sum_of_shorts(margin_world, fund_account):
    w = margin_world
    p = w.protocol
    put, call = w.ids[(2700, False)], w.ids[(3300, True)]
    shorts = {}
    for i, (who, sub) in enumerate([(p.writer, 0), (p.writer, 1), (p.buyer, 0)]):
        fund_account(who, 20_000, sub=sub)
        w.engine.set_mode(sub, CROSS, sender=who)
        w.engine.open_short(sub, put, (i + 1) * WAD, sender=who)
        w.engine.open_short(sub, call, WAD // 2, sender=who)
        shorts[(who, sub)] = True
    w.engine.close_short(1, put, WAD, sender=p.writer)  # the writer holds the longs it wrote
    total = {put: 0, call: 0}
    for who, sub in shorts:
        for pos in w.engine.positions(who, sub):
            if pos.amount < 0:
                total[pos.id] += -pos.amount
    assert total == {put: 5 * WAD, call: 3 * WAD // 2}
    assert w.engine.open_interest(put) == total[put]
    assert w.engine.open_interest(call) == total[call]
    assert w.engine.total_short_units() == total[put] + total[call]


def test_collateral_adequacy_view(margin_world, fund_account):
    w = margin_world
    p = w.protocol
    assert w.engine.collateral_adequacy() == 2**256 - 1  # no shorts yet
    fund_account(p.writer, 3_000, weth=1.0)
    w.engine.set_mode(0, CROSS, sender=p.writer)
    w.engine.open_short(0, w.ids[(2400, False)], 2 * WAD, sender=p.writer)
    spot = p.oracle.price()[0]
    value = 3_000 * 10**6 * 10**12 * (WAD - w.model.usd_haircut()) // WAD \
        + WAD * spot // WAD * (WAD - w.model.weth_haircut()) // WAD
    notional = 2 * WAD * spot // WAD
    assert w.engine.collateral_adequacy() == value * WAD // notional
    assert w.engine.collateral_adequacy() / WAD == pytest.approx((2_970 + 0.85 * spot / WAD) / (2 * spot / WAD))
