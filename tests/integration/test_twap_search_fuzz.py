"""The TWAP oracle's ring search against a Python model, on the in-process chain for volume.

Random observation gaps (uneven, so the interpolation search must fall back to bisection),
random swaps, a ring that wraps, and random query intervals: `twap_between` must equal the
model's linear interpolation between the recorded observations, exactly.
"""

from hypothesis import given, settings, strategies as st

WAD = 10**18


def _world(project, owner):
    weth = project.CollateralToken.deploy("Wrapped Ether", "WETH", 18, sender=owner)
    usd = project.CollateralToken.deploy("DSI USD", "dUSD", 6, sender=owner)
    pool = project.SpotPool.deploy(weth.address, usd.address, sender=owner)
    weth.mint(owner, 10**30, sender=owner)
    usd.mint(owner, 10**30, sender=owner)
    weth.approve(pool.address, 2**255, sender=owner)
    usd.approve(pool.address, 2**255, sender=owner)
    pool.add_liquidity(1_000 * WAD, 3_000_000 * 10**6, 0, owner, sender=owner)
    return weth, usd, pool


def _model_cum(obs, t):
    """Cumulative at t by linear interpolation between (ts, cum) observations (sorted)."""
    for (t0, c0), (t1, c1) in zip(obs, obs[1:]):
        if t0 <= t <= t1:
            return c0 if t == t0 else c0 + (c1 - c0) * (t - t0) // (t1 - t0)
    raise AssertionError("t outside the observations")


@settings(max_examples=25, deadline=None)
@given(
    cardinality=st.integers(2, 40),
    steps=st.lists(st.tuples(st.integers(1, 900), st.integers(-300, 300)), min_size=3, max_size=80),
    queries=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=10),
)
def test_twap_between_matches_interpolation_model(project, chain, deployer, cardinality, steps, queries):
    with chain.isolate():  # every example on the same starting state
        owner = deployer
        weth, usd, pool = _world(project, owner)
        twap = project.TwapOracle.deploy(pool.address, cardinality, 1, sender=owner)
        for gap, trade in steps:
            chain.mine(deltatime=gap)
            if trade > 0:
                pool.swap_exact_in(usd.address, trade * 10**9, 0, owner, sender=owner)
            elif trade < 0:
                pool.swap_exact_in(weth.address, -trade * 10**15, 0, owner, sender=owner)
            twap.update(sender=owner)
        chain.mine(deltatime=1)
        card, idx = twap.cardinality(), twap.index()
        obs = [twap.observation((idx + 1 + i) % card) for i in range(card)]
        obs = [o for o in obs if o[0] != 0]
        assert obs == sorted(obs)
        oldest, newest = obs[0][0], obs[-1][0]
        assert twap.oldest_timestamp() == oldest
        for a, b in queries:
            start = oldest + int(a * (newest - oldest))
            end = start + 1 + int(b * (newest - start))
            if end > newest:
                continue
            got = twap.twap_between(start, end)
            want = (_model_cum(obs, end) - _model_cum(obs, start)) // (end - start)
            assert got == want
