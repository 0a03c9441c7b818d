"""MarginEngine on anvil: requirements against the reference model, guards, settlement."""

import ape
import pytest

from dsi.reference import margin as M

WAD = 10**18
DAY = 86_400
ISOLATED, CROSS, PORTFOLIO = 0, 1, 2


def _book(world, chain, legs):
    market, tte = world.market(chain)
    return market, [M.Position(float(k), tte, c, a) for (k, c, a) in legs]


def test_cross_short_put_requirement_matches_reference(margin_world, fund_account, chain):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 2_000)
    w.engine.set_mode(0, CROSS, sender=writer)
    w.engine.open_short(0, w.ids[(2700, False)], 2 * WAD, sender=writer)
    m = w.engine.margin(writer, 0)
    market, book = _book(w, chain, [(2700, False, -2)])
    assert m.initial / WAD == pytest.approx(M.standard(book, market), rel=1e-9)
    assert m.maintenance / WAD == pytest.approx(M.standard(book, market, maintenance=True), rel=1e-9)
    assert m.equity / WAD == pytest.approx(2_000 * 0.99, rel=1e-12)  # USD haircut 1%
    assert m.health == pytest.approx(m.equity * WAD // m.maintenance, abs=1)
    assert w.protocol.option_token.balanceOf(writer, w.ids[(2700, False)]) == 2 * WAD
    assert w.engine.open_interest(w.ids[(2700, False)]) == 2 * WAD


def test_portfolio_spread_gets_credit_and_matches_reference(margin_world, fund_account, chain):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 5_000, sub=1)
    fund_account(writer, 1_000, sub=0)
    # Write the 3600 call in sub-account 1, move the long into sub-account 0 next to a short 3300.
    w.engine.set_mode(1, CROSS, sender=writer)
    w.engine.open_short(1, w.ids[(3600, True)], WAD, sender=writer)
    w.protocol.option_token.setApprovalForAll(w.engine.address, True, sender=writer)
    w.engine.set_mode(0, PORTFOLIO, sender=writer)
    w.engine.deposit_long(0, w.ids[(3600, True)], WAD, sender=writer)
    w.engine.open_short(0, w.ids[(3300, True)], WAD, sender=writer)
    m = w.engine.margin(writer, 0)
    market, book = _book(w, chain, [(3300, True, -1), (3600, True, 1)])
    assert m.initial / WAD == pytest.approx(M.portfolio(book, market), rel=1e-9)
    assert m.maintenance / WAD == pytest.approx(M.portfolio(book, market, maintenance=True), rel=1e-9)
    # The scenario PnL the engine's check uses: RiskArrays on the account's book and WETH.
    positions = [(q.id, q.amount) for q in w.engine.positions(writer, 0)]
    book_ = w.protocol.risk_arrays.evaluate(positions, w.engine.account(writer, 0)[2],
                                           w.protocol.oracle.price()[0], False, True)
    pnl = book_.pnl
    ref = M.scenario_pnl(book, market)
    assert [x / WAD for x in pnl] == pytest.approx(ref, abs=1e-6)
    # The spread needs far less than the naked short in cross margin.
    assert m.initial / WAD < M.standard(book, market) / 2


def test_portfolio_weth_collateral_is_revalued_in_scenarios(margin_world, fund_account, chain):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 0, weth=1.0)
    w.engine.set_mode(0, PORTFOLIO, sender=writer)
    w.engine.open_short(0, w.ids[(3300, True)], WAD, sender=writer)
    market, book = _book(w, chain, [(3300, True, -1)])
    m = w.engine.margin(writer, 0)
    assert m.initial / WAD == pytest.approx(M.portfolio(book, market, weth=1.0), rel=1e-9)


def test_below_initial_margin_reverts_and_changes_nothing(margin_world, fund_account):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 100)
    w.engine.set_mode(0, CROSS, sender=writer)
    with ape.reverts("margin: below initial margin"):
        w.engine.open_short(0, w.ids[(2700, False)], WAD, sender=writer)
    assert w.engine.account(writer, 0) == (CROSS, 100 * 10**6, 0, 0)
    assert w.protocol.option_token.balanceOf(writer, w.ids[(2700, False)]) == 0


def test_withdraw_checks_initial_margin(margin_world, fund_account):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 1_000)
    w.engine.set_mode(0, CROSS, sender=writer)
    w.engine.open_short(0, w.ids[(2400, False)], WAD, sender=writer)
    initial = w.engine.margin(writer, 0).initial
    free = 1_000 * 0.99 - initial / WAD
    with ape.reverts("margin: below initial margin"):
        w.engine.withdraw(0, int((free + 5) / 0.99 * 10**6), 0, sender=writer)
    w.engine.withdraw(0, int((free - 5) / 0.99 * 10**6), 0, sender=writer)
    m = w.engine.margin(writer, 0)
    assert m.equity >= m.initial


def test_risk_increasing_refused_unless_oracle_fresh(margin_world, fund_account, build_history):
    w = margin_world
    p = w.protocol
    writer = p.writer
    fund_account(writer, 5_000)
    w.engine.set_mode(0, CROSS, sender=writer)
    w.engine.open_short(0, w.ids[(2700, False)], WAD, sender=writer)
    build_history(1_800)
    p.feed.submit(int(3000 * 1.35) * WAD, sender=p.reporter)  # a bad print: DEVIANT
    assert p.oracle.price()[1] == 2
    with ape.reverts("margin: oracle not fresh"):
        w.engine.open_short(0, w.ids[(2700, False)], WAD // 10, sender=writer)
    with ape.reverts("margin: oracle not fresh"):
        w.engine.withdraw(0, 10 * 10**6, 0, sender=writer)
    # Risk-reducing actions still work.
    w.engine.close_short(0, w.ids[(2700, False)], WAD // 2, sender=writer)
    fund_account(writer, 10)
    assert w.engine.positions(writer, 0)[0].amount == -(WAD // 2)


def test_isolated_holds_one_position(margin_world, fund_account):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 5_000)
    w.engine.open_short(0, w.ids[(2400, False)], WAD, sender=writer)  # mode 0 = isolated
    with ape.reverts("margin: isolated holds one position"):
        w.engine.open_short(0, w.ids[(2700, False)], WAD, sender=writer)
    w.engine.open_short(0, w.ids[(2400, False)], WAD, sender=writer)  # same series: fine
    assert w.engine.positions(writer, 0)[0].amount == -2 * WAD


def test_guards_on_bad_input(margin_world, fund_account):
    w = margin_world
    writer = w.protocol.writer
    fund_account(writer, 5_000)
    with ape.reverts("margin: below min size"):
        w.engine.open_short(0, w.ids[(2400, False)], WAD // 1000, sender=writer)
    with ape.reverts("margin: unknown series"):
        w.engine.open_short(0, 999, WAD, sender=writer)
    with ape.reverts("margin: unknown mode"):
        w.engine.set_mode(0, 3, sender=writer)
    with ape.reverts("margin: zero amount"):
        w.engine.deposit(0, 0, 0, sender=writer)
    with ape.reverts("margin: insufficient collateral"):
        w.engine.withdraw(0, 10**12, 0, sender=writer)
    with ape.reverts("margin: no such short"):
        w.engine.close_short(0, w.ids[(2400, False)], WAD, sender=writer)
    with ape.reverts("margin: no such long"):
        w.engine.withdraw_long(0, w.ids[(2400, False)], WAD, sender=writer)


def test_governance_is_owner_only_and_bounded(margin_world):
    """The margin risk parameters live in the model: every setter is owner-only, bounded, and
    logged; a refused call changes nothing."""
    w = margin_world
    m, d, attacker = w.model, w.protocol.deployer, w.protocol.attacker
    before = (m.usd_haircut(), m.weth_haircut(), tuple(m.im_params()), tuple(m.mm_params()),
              m.im_factor(), m.mm_factor(), m.contingency())
    assert before == (10**16, 15 * 10**16, (15 * 10**16, 10**17), (75 * 10**15, 5 * 10**16),
                      13 * 10**17, WAD, 5 * 10**15)  # the deployed defaults
    with ape.reverts("ownable: caller is not the owner"):
        m.set_haircuts(0, 0, sender=attacker)
    with ape.reverts("margin: haircut out of bounds"):
        m.set_haircuts(0, WAD // 2 + 1, sender=d)
    with ape.reverts("margin: haircut out of bounds"):
        m.set_haircuts(WAD // 2 + 1, 0, sender=d)
    with ape.reverts("ownable: caller is not the owner"):
        m.set_portfolio_factors(WAD, WAD, 0, sender=attacker)
    with ape.reverts("margin: factors out of bounds"):
        m.set_portfolio_factors(WAD, 2 * WAD, 0, sender=d)  # mm above im
    with ape.reverts("margin: factors out of bounds"):
        m.set_portfolio_factors(3 * WAD + 1, WAD, 0, sender=d)
    with ape.reverts("margin: factors out of bounds"):
        m.set_portfolio_factors(WAD, WAD - 1, 0, sender=d)
    with ape.reverts("margin: contingency out of bounds"):
        m.set_portfolio_factors(WAD, WAD, 5 * 10**16 + 1, sender=d)
    with ape.reverts("ownable: caller is not the owner"):
        m.set_standard_params((WAD // 10, WAD // 10), (WAD // 10, WAD // 10), sender=attacker)
    with ape.reverts("margin: maintenance above initial"):
        m.set_standard_params((WAD // 10, WAD // 10), (WAD // 5, WAD // 10), sender=d)
    with ape.reverts("margin: standard params out of bounds"):
        m.set_standard_params((WAD + 1, WAD // 10), (WAD // 10, WAD // 10), sender=d)
    with ape.reverts("margin: standard params out of bounds"):
        m.set_standard_params((WAD // 10, 0), (WAD // 10, 0), sender=d)
    assert (m.usd_haircut(), m.weth_haircut(), tuple(m.im_params()), tuple(m.mm_params()),
            m.im_factor(), m.mm_factor(), m.contingency()) == before
    receipt = m.set_haircuts(2 * 10**16, 2 * 10**17, sender=d)
    assert (m.usd_haircut(), m.weth_haircut()) == (2 * 10**16, 2 * 10**17)
    assert [(e.usd_haircut, e.weth_haircut) for e in receipt.events] == [(2 * 10**16, 2 * 10**17)]
    receipt = m.set_portfolio_factors(12 * 10**17, 11 * 10**17, 10**15, sender=d)
    assert [(e.im_factor, e.mm_factor, e.contingency) for e in receipt.events] == [(12 * 10**17, 11 * 10**17, 10**15)]
    receipt = m.set_standard_params((2 * 10**17, 10**17), (10**17, 5 * 10**16), sender=d)
    assert (tuple(m.im_params()), tuple(m.mm_params())) == ((2 * 10**17, 10**17), (10**17, 5 * 10**16))
    assert len(receipt.events) == 1
    m.set_haircuts(*before[:2], sender=d)
    m.set_standard_params(before[2], before[3], sender=d)
    m.set_portfolio_factors(*before[4:], sender=d)


def test_settlement_short_pays_pool_and_holder_redeems(margin_world, fund_account, chain):
    w = margin_world
    p = w.protocol
    writer, buyer = p.writer, p.buyer
    fund_account(writer, 3_000)
    w.engine.set_mode(0, CROSS, sender=writer)
    put = w.ids[(2700, False)]
    w.engine.open_short(0, put, WAD, sender=writer)
    p.option_token.safeTransferFrom(writer, buyer, put, WAD, b"", sender=writer)
    # The market falls to 2,400 and stays there through expiry (TWAP history every 10 min).
    from dsi.agents.arbitrageur import trade_to_price
    trade_to_price(p, 2_400 * WAD)
    chain.mine(deltatime=w.expiry - 2_400 - chain.blocks.head.timestamp)
    p.twap.update(sender=p.keeper)
    while chain.blocks.head.timestamp < w.expiry + 60:
        chain.mine(deltatime=600)
        p.twap.update(sender=p.keeper)
    p.feed.submit(p.pool.spot_price(), sender=p.reporter)  # the feed reports the market at expiry
    w.engine.settle_position(writer, 0, put, sender=p.keeper)
    settle = p.series.settlement_price(put)
    payoff = p.series.payoff_per_unit(put)
    assert payoff == 2_700 * WAD - settle
    mode, usd_left, weth_left, n = w.engine.account(writer, 0)
    assert n == 0
    assert usd_left == 3_000 * 10**6 - -(-payoff // 10**12)  # paid rounded up to the USD unit
    before = p.usd.balanceOf(buyer)
    p.series.redeem(put, WAD, sender=buyer)
    assert p.usd.balanceOf(buyer) - before == payoff // 10**12
    assert w.engine.bad_debt() == 0
