"""The risk-array twin's rounding claims, checked on random integers (pure Python, no chain):
packing round-trips, and every cached delta sits on the protocol's side of the live one by
more than 0 and at most 2Q per option."""

from hypothesis import given, settings
from hypothesis import strategies as st

from dsi.reference import risk_arrays as RA

WAD = 10**18
value = st.integers(min_value=0, max_value=RA.LANE_MASK * RA.QUANTUM)


@settings(max_examples=200, deadline=None)
@given(spot=st.integers(1, 2**128 - 1), t=st.integers(0, 2**40), strike=st.integers(1, 2**128 - 1),
       is_call=st.booleans(), mark=value, values=st.lists(value, min_size=33, max_size=33))
def test_pack_round_trips(spot, t, strike, is_call, mark, values):
    words = RA.pack(spot, t, t // 2, strike, t + 1, is_call, mark, values)
    assert len(words) == 9 and all(0 <= w < 2**256 for w in words)
    m_q, v_q = RA.lanes(words)
    assert m_q == mark // RA.QUANTUM and v_q == [v // RA.QUANTUM for v in values]
    assert words[0] & (2**128 - 1) == spot and words[1] & (2**128 - 1) == strike
    assert bool(words[1] & RA.IS_CALL_BIT) == is_call


@settings(max_examples=300, deadline=None)
@given(mark=value, values=st.lists(value, min_size=33, max_size=33),
       amount=st.integers(1, 10**6 * WAD), short=st.booleans())
def test_cached_deltas_are_conservative_within_two_quanta(mark, values, amount, short):
    words = RA.pack(1, 0, 0, 1, 1, True, mark, values)
    cached = RA.cached_deltas(words, short)
    # The live path prices a short's mark rounded up (at most 1 wei above the floor used here).
    live_mark = mark + 1 if short else mark
    for v, c in zip(values, cached):
        live = v - live_mark
        if short:
            assert live < c <= live + 2 * RA.QUANTUM  # a short's loss is overstated
        else:
            assert live - 2 * RA.QUANTUM < c < live + 1  # a long's gain is understated
    signed = -amount if short else amount
    cached_pnl = RA.cached_pnl([(words, signed)])
    live_pnl = RA.live_pnl([(values, live_mark, signed)])
    bound = 2 * RA.QUANTUM * amount // WAD + 2
    assert all(l - bound <= c <= l for c, l in zip(cached_pnl, live_pnl))


def test_requirement_bound_covers_the_pnl_bound():
    amounts = [-3 * WAD, 2 * WAD, -WAD // 2]
    pnl_live = [-1_000 * WAD] * 33
    per_scenario = sum(2 * RA.QUANTUM * abs(a) // WAD + 2 for a in amounts)
    pnl_cached = [x - per_scenario for x in pnl_live]
    factor, spot = 13 * 10**17, 3_000 * WAD
    live = RA.requirement(pnl_live, 4 * WAD, spot, factor, 5 * 10**15)
    cached = RA.requirement(pnl_cached, 4 * WAD, spot, factor, 5 * 10**15)
    assert live < cached <= live + RA.requirement_bound(amounts, factor)
