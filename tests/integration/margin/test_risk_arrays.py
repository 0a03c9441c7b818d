"""RiskArrays on anvil: packing against the twin, cached vs live portfolio margin, invalidation
(vol update, age, spot drift) falling back to the live revaluation, guards and governance."""

import ape
import pytest

from dsi.reference import margin as M
from dsi.reference import risk_arrays as RA

WAD = 10**18
PORTFOLIO, CROSS = 2, 1
CALL_3300, CALL_3600, PUT_2700 = (3300, True), (3600, True), (2700, False)


def _positions(engine, owner, sub=0):
    return [(p.id, p.amount) for p in engine.positions(owner, sub)]


def _evaluate(w, owner, use_arrays, sub=0):
    p = w.protocol
    weth = w.engine.account(owner, sub)[2]
    spot = p.oracle.price()[0]
    return p.risk_arrays.evaluate(_positions(w.engine, owner, sub), weth, spot, False, use_arrays), spot


def _svi(w):
    return M.Svi(*(x / WAD for x in w.vol_feed.slice(w.expiry)[:5]))


def _requirement(w, book, spot):
    return RA.requirement(list(book.pnl), book.shorts, spot, w.model.im_factor(), w.model.contingency())


@pytest.fixture
def portfolio_book(margin_world, fund_account):
    """The writer's sub-account 0 in portfolio mode: short 3300 call, short 2700 put, long 3600
    call (written in sub-account 1 and deposited), 0.5 WETH collateral; arrays refreshed."""
    w = margin_world
    p = w.protocol
    writer = p.writer
    fund_account(writer, 5_000, sub=1)
    w.engine.set_mode(1, CROSS, sender=writer)
    w.engine.open_short(1, w.ids[CALL_3600], 2 * WAD, sender=writer)
    p.option_token.setApprovalForAll(w.engine.address, True, sender=writer)
    fund_account(writer, 3_000, weth=0.5, sub=0)
    w.engine.set_mode(0, PORTFOLIO, sender=writer)
    w.engine.deposit_long(0, w.ids[CALL_3600], 2 * WAD, sender=writer)
    w.engine.open_short(0, w.ids[CALL_3300], 2 * WAD, sender=writer)
    w.engine.open_short(0, w.ids[PUT_2700], 3 * WAD // 2, sender=writer)
    _refresh_in_one_instant(w, w.chain, (CALL_3300, CALL_3600, PUT_2700))
    return w


def _refresh_in_one_instant(w, chain, keys):
    """Refresh the arrays in blocks sharing one timestamp, and leave the chain at it: views then
    see the refresh time exactly, so cached and live differ by quantisation only."""
    t = chain.blocks.head.timestamp + 1
    for key in keys:
        chain.pending_timestamp = t
        w.protocol.risk_arrays.refresh(w.ids[key], sender=w.protocol.keeper)
    assert chain.blocks.head.timestamp == t


def test_refresh_packs_the_calculators_values_exactly(margin_world, chain):
    w = margin_world
    p = w.protocol
    ra, sid = p.risk_arrays, w.ids[PUT_2700]
    assert not ra.is_valid(sid)
    receipt = ra.refresh(sid, sender=p.keeper)
    ts = chain.blocks[receipt.block_number].timestamp
    event = receipt.events[0]
    spot, updated = event.spot, event.vol_updated
    a, b, rho, m, sig, _ = w.vol_feed.slice(w.expiry)
    pp = tuple(ra.pm_params())
    tte = w.expiry - ts
    vals = list(p.calculator.scenario_values(spot, 2700 * WAD, tte, (a, b, rho, m, sig), False, pp))
    mark = p.calculator.mark(spot, 2700 * WAD, tte, (a, b, rho, m, sig), False, False)
    assert list(ra.words(sid)) == RA.pack(spot, ts, updated, 2700 * WAD, w.expiry, False, mark, vals)
    arr = ra.risk_array(sid)
    assert (arr.spot, arr.refreshed_at, arr.vol_updated, arr.strike, arr.expiry, arr.is_call) == \
        (spot, ts, updated, 2700 * WAD, w.expiry, False)
    assert arr.mark == mark // RA.QUANTUM and list(arr.values) == [v // RA.QUANTUM for v in vals]
    assert ra.is_valid(sid)


def test_quantised_array_matches_float_reference(margin_world, chain):
    from dsi.reference.margin import PortfolioParams
    w = margin_world
    p = w.protocol
    sid = w.ids[CALL_3300]
    receipt = p.risk_arrays.refresh(sid, sender=p.keeper)
    ts = chain.blocks[receipt.block_number].timestamp
    spot = receipt.events[0].spot
    market = M.Market(spot=spot / WAD, surfaces={w.expiry - ts: _svi(w)})
    book = [M.Position(3300.0, w.expiry - ts, True, 1.0)]
    ref = M.scenario_pnl(book, market)
    mark_q, vals_q = RA.lanes(list(p.risk_arrays.words(sid)))
    tail = PortfolioParams().tail_weight
    for j, q in enumerate(vals_q):
        weight = tail if RA.NUM_GRID <= j < RA.NUM_GRID + 4 else 1.0
        assert (q - mark_q) * 1e-9 * weight == pytest.approx(ref[j], abs=2e-6)
    assert mark_q * 1e-9 == pytest.approx(market.mark(book[0]), abs=2e-6)


def test_cached_requirement_equals_live_within_quantisation_bound(portfolio_book):
    w = portfolio_book
    p = w.protocol
    writer = p.writer
    ra = p.risk_arrays
    assert all(ra.is_valid(w.ids[k]) for k in (CALL_3300, CALL_3600, PUT_2700))
    cached, spot = _evaluate(w, writer, True)
    live, _ = _evaluate(w, writer, False)
    positions = _positions(w.engine, writer)
    amounts = [a for _, a in positions]
    per_scenario = sum(2 * RA.QUANTUM * abs(a) // WAD + 2 for a in amounts)
    assert cached.value == live.value and cached.shorts == live.shorts == 7 * WAD // 2
    # Conservative: every cached scenario PnL is at or below the live one, within the bound.
    for c, l in zip(cached.pnl, live.pnl):
        assert l - per_scenario <= c <= l
    # The engine uses the arrays: its requirement is the cached one, exactly.
    m = w.engine.margin(writer, 0)
    assert m.initial == _requirement(w, cached, spot)
    req_live = _requirement(w, live, spot)
    assert req_live <= m.initial <= req_live + RA.requirement_bound(amounts, w.model.im_factor())
    assert m.initial > 1_000 * WAD  # a real requirement, not a degenerate zero
    # The twin reproduces the cached PnL from the stored words exactly.
    entries = [(list(ra.words(sid)), amount) for sid, amount in positions]
    weth = w.engine.account(writer, 0)[2]
    twin = RA.finish_pnl(RA.cached_pnl(entries), weth, spot, ra.pm_params().tail_weight)
    assert twin == list(cached.pnl)
    # And the live figure against the float reference model.
    market, tte = w.market(w.chain)
    book = [M.Position(3300.0, tte, True, -2.0), M.Position(2700.0, tte, False, -1.5),
            M.Position(3600.0, tte, True, 2.0)]
    assert req_live / WAD == pytest.approx(M.portfolio(book, market, weth=0.5), rel=1e-9)


def _assert_live(w, writer):
    """The engine's figures equal the live revaluation's, and the arrays are not used."""
    cached, spot = _evaluate(w, writer, True)
    live, _ = _evaluate(w, writer, False)
    assert list(cached.pnl) == list(live.pnl)
    m = w.engine.margin(writer, 0)
    assert m.initial == _requirement(w, live, spot)
    return m, spot


def _stale_twin(w, writer, spot):
    """The requirement the (now invalid) stored arrays would have given."""
    ra = w.protocol.risk_arrays
    entries = [(list(ra.words(sid)), amount) for sid, amount in _positions(w.engine, writer)]
    weth = w.engine.account(writer, 0)[2]
    pnl = RA.finish_pnl(RA.cached_pnl(entries), weth, spot, ra.pm_params().tail_weight)
    shorts = sum(-a for _, a in _positions(w.engine, writer) if a < 0)
    return RA.requirement(pnl, shorts, spot, w.model.im_factor(), w.model.contingency())


def test_vol_update_invalidates_and_falls_back_to_live(portfolio_book, chain):
    w = portfolio_book
    p = w.protocol
    writer = p.writer
    chain.mine(deltatime=12)
    a, b, rho, m_, sig, _ = w.vol_feed.slice(w.expiry)
    hotter = [a * 3 // 2, b * 3 // 2, rho, m_, sig]
    w.vol_feed.push(w.expiry, *hotter, sender=p.reporter)
    assert not any(p.risk_arrays.is_valid(w.ids[k]) for k in (CALL_3300, CALL_3600, PUT_2700))
    m, spot = _assert_live(w, writer)
    # The stale arrays (priced on the old slice) would have given another figure.
    assert abs(_stale_twin(w, writer, spot) - m.initial) > WAD
    # A refresh makes them valid again, on the new slice.
    _refresh_in_one_instant(w, chain, (CALL_3300, CALL_3600, PUT_2700))
    assert w.engine.margin(writer, 0).initial == _stale_twin(w, writer, spot)


def test_age_invalidates_and_falls_back_to_live(portfolio_book, chain):
    w = portfolio_book
    p = w.protocol
    p.risk_arrays.set_validity(10**16, 120, sender=p.deployer)
    chain.mine(deltatime=60)
    assert p.risk_arrays.is_valid(w.ids[CALL_3300])
    cached, spot = _evaluate(w, p.writer, True)
    assert w.engine.margin(p.writer, 0).initial == _requirement(w, cached, spot)
    chain.mine(deltatime=61)
    assert not p.risk_arrays.is_valid(w.ids[CALL_3300])
    m, spot = _assert_live(w, p.writer)
    assert m.initial != _stale_twin(w, p.writer, spot)


def test_spot_drift_invalidates_and_falls_back_to_live(portfolio_book):
    w = portfolio_book
    p = w.protocol
    writer = p.writer
    # 0.5% up: inside the 1% tolerance, the arrays are still used (deltas from S0).
    p.feed.submit(3015 * WAD, sender=p.reporter)
    assert p.oracle.price() == (3015 * WAD, 0)
    assert p.risk_arrays.is_valid(w.ids[CALL_3300])
    assert w.engine.margin(writer, 0).initial == _stale_twin(w, writer, 3015 * WAD)
    # 2% up: outside, every position is revalued live at the new spot.
    p.feed.submit(3060 * WAD, sender=p.reporter)
    assert p.oracle.price() == (3060 * WAD, 0)
    assert not p.risk_arrays.is_valid(w.ids[CALL_3300])
    m, spot = _assert_live(w, writer)
    assert spot == 3060 * WAD
    assert m.initial != _stale_twin(w, writer, spot)
    market, tte = w.market(w.chain)
    book = [M.Position(3300.0, tte, True, -2.0), M.Position(2700.0, tte, False, -1.5),
            M.Position(3600.0, tte, True, 2.0)]
    assert m.initial / WAD == pytest.approx(M.portfolio(book, market, weth=0.5), rel=1e-9)


def test_refresh_guards(margin_world, chain):
    w = margin_world
    p = w.protocol
    ra = p.risk_arrays
    with ape.reverts("riskarrays: unknown series"):
        ra.refresh(999, sender=p.keeper)
    # A series on an expiry with no vol slice.
    other = w.expiry + 7 * 86_400
    p.series.list_series(3000 * WAD, other, True, False, sender=p.deployer)
    sid = p.series.find_series(3000 * WAD, other, True, False)
    with ape.reverts("riskarrays: no vol slice"):
        ra.refresh(sid, sender=p.keeper)
    # A stale vol slice (the feed's staleness limit lowered to a minute).
    w.vol_feed.set_max_age(60, sender=p.deployer)
    chain.mine(deltatime=61)
    with ape.reverts("riskarrays: vol stale"):
        ra.refresh(w.ids[CALL_3300], sender=p.keeper)
    w.vol_feed.set_max_age(3 * 86_400, sender=p.deployer)
    # A bad print makes the oracle DEVIANT: no array is computed on it.
    p.feed.submit(int(3000 * 1.35) * WAD, sender=p.reporter)
    assert p.oracle.price()[1] != 0
    with ape.reverts("riskarrays: oracle not fresh"):
        ra.refresh(w.ids[CALL_3300], sender=p.keeper)


def test_refresh_refuses_expired_series(margin_world, chain):
    w = margin_world
    p = w.protocol
    near = chain.blocks.head.timestamp + 2 * 86_400
    p.vol_feed.push(near, *(int(round(x * WAD)) for x in (0.001, 0.01, -0.3, 0.0, 0.2)), sender=p.reporter)
    p.series.list_series(3000 * WAD, near, False, False, sender=p.deployer)
    sid = p.series.find_series(3000 * WAD, near, False, False)
    p.risk_arrays.refresh(sid, sender=p.keeper)
    chain.mine(deltatime=near + 1 - chain.blocks.head.timestamp)
    p.feed.submit(3000 * WAD, sender=p.reporter)
    assert p.oracle.price()[1] == 0
    assert not p.risk_arrays.is_valid(sid)
    with ape.reverts("riskarrays: series expired"):
        p.risk_arrays.refresh(sid, sender=p.keeper)


def test_portfolio_checks_need_fresh_vol(margin_world, fund_account, chain):
    w = margin_world
    p = w.protocol
    writer = p.writer
    fund_account(writer, 10_000)
    w.engine.set_mode(0, PORTFOLIO, sender=writer)
    other = w.expiry + 7 * 86_400
    p.series.list_series(3000 * WAD, other, False, False, sender=p.deployer)
    sid = p.series.find_series(3000 * WAD, other, False, False)
    with ape.reverts("riskarrays: no vol slice"):
        w.engine.open_short(0, sid, WAD, sender=writer)
    w.engine.open_short(0, w.ids[PUT_2700], WAD, sender=writer)
    w.vol_feed.set_max_age(60, sender=p.deployer)
    chain.mine(deltatime=61)
    with ape.reverts("riskarrays: vol stale"):
        w.engine.open_short(0, w.ids[PUT_2700], WAD, sender=writer)
    # Views still answer on a stale slice.
    assert w.engine.margin(writer, 0).initial > 0


def test_validity_governance_is_owner_only_and_bounded(margin_world):
    w = margin_world
    p = w.protocol
    ra = p.risk_arrays
    assert (ra.drift_tolerance(), ra.max_age()) == (10**16, 3_600)
    with ape.reverts("ownable: caller is not the owner"):
        ra.set_validity(2 * 10**16, 600, sender=p.attacker)
    with ape.reverts("riskarrays: drift out of bounds"):
        ra.set_validity(0, 600, sender=p.deployer)
    with ape.reverts("riskarrays: drift out of bounds"):
        ra.set_validity(5 * 10**16 + 1, 600, sender=p.deployer)
    with ape.reverts("riskarrays: max age out of bounds"):
        ra.set_validity(10**16, 59, sender=p.deployer)
    with ape.reverts("riskarrays: max age out of bounds"):
        ra.set_validity(10**16, 86_401, sender=p.deployer)
    receipt = ra.set_validity(5 * 10**16, 86_400, sender=p.deployer)
    assert (ra.drift_tolerance(), ra.max_age()) == (5 * 10**16, 86_400)
    assert receipt.events[0].drift_tolerance == 5 * 10**16
    assert w.model.risk_arrays() == ra.address  # the model reads pm_params from it


def test_value_beyond_a_lane_is_refused_and_the_series_stays_live(build, chain):
    """A 51-bit lane holds 2.25e6 USD per option: at ETH 2,000,000 a call's x3 tail scenario
    is worth ~4e6, so `refresh` refuses and margin checks keep revaluing that series live."""
    from dsi.protocol import Params

    p = build.margin(build.protocol(Params(spot=2_000_000.0)))
    expiry = chain.blocks.head.timestamp + 30 * 86_400
    p.vol_feed.push(expiry, 10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17, sender=p.reporter)
    p.series.list_series(2_000_000 * WAD, expiry, True, False, sender=p.deployer)
    sid = p.series.find_series(2_000_000 * WAD, expiry, True, False)
    with ape.reverts("riskarrays: value too large"):
        # As a call: ape's revert handling of a failed transaction this heavy takes ~50 s.
        p.risk_arrays.refresh.call(sid, sender=p.keeper)
    spot = p.oracle.price()[0]
    cached = p.risk_arrays.evaluate([(sid, -WAD)], 0, spot, False, True)
    live = p.risk_arrays.evaluate([(sid, -WAD)], 0, spot, False, False)
    assert list(cached.pnl) == list(live.pnl) and min(live.pnl) < -100_000 * WAD
