"""TwapOracle: the observation ring, the window guard, and TWAP values against a Python
time-weighted average of the pool's own spot prices."""

import ape
from dsi.agents.arbitrageur import amount_to_price

WAD = 10**18


def test_twap_reverts_when_history_shorter_than_window(protocol, chain):
    chain.mine(deltatime=100)
    protocol.twap.update(sender=protocol.keeper)
    oldest = protocol.twap.oldest_timestamp()
    window = chain.pending_timestamp - oldest + 1
    with ape.reverts("twap: history shorter than window"):
        protocol.twap.twap(window)
    ok, value = protocol.twap.try_twap(window)
    assert (ok, value) == (False, 0)


def test_twap_window_bounds(protocol):
    with ape.reverts("twap: zero window"):
        protocol.twap.twap(0)
    with ape.reverts("twap: window too long"):
        protocol.twap.twap(7 * 86_400 + 1)


def _funded_swapper(protocol):
    arb = protocol.arbitrageur
    for token, amount in ((protocol.weth, 10**24), (protocol.usd, 10**15)):
        token.mint(arb, amount, sender=protocol.deployer)
        token.approve(protocol.pool.address, amount, sender=arb)

    def swap_to(price_wad):
        side, amount = amount_to_price(protocol.pool.reserve0(), protocol.pool.reserve1(), price_wad,
                                       protocol.pool.fee_bps())
        token = protocol.weth if side == "weth" else protocol.usd
        protocol.pool.swap_exact_in(token.address, amount, 0, arb, sender=arb)

    return swap_to


def test_twap_equals_time_weighted_pool_price(protocol, chain):
    """Swaps at controlled timestamps between two observations: the TWAP is exactly the
    integer time-weighted mean of the prices the pool held."""
    twap = protocol.twap
    swap_to = _funded_swapper(protocol)
    chain.pending_timestamp = chain.blocks.head.timestamp + 60
    twap.update(sender=protocol.keeper)
    times = [chain.blocks.head.timestamp]
    prices = [protocol.pool.spot_price()]
    for target, gap in ((2700, 300), (3300, 450), (2900, 150)):
        chain.pending_timestamp = chain.blocks.head.timestamp + gap
        swap_to(target * WAD)
        times.append(chain.blocks.head.timestamp)
        prices.append(protocol.pool.spot_price())
    chain.pending_timestamp = chain.blocks.head.timestamp + 600
    twap.update(sender=protocol.keeper)
    times.append(chain.blocks.head.timestamp)
    weighted = sum(p * (t1 - t0) for p, t0, t1 in zip(prices, times, times[1:]))
    assert twap.twap_between(times[0], times[-1]) == weighted // (times[-1] - times[0])
    # And the prices really moved: the mean is not any single price.
    assert len(set(prices)) == 4


def test_twap_between_exact_on_flat_price(protocol, chain):
    twap = protocol.twap
    price = protocol.pool.spot_price()
    for _ in range(5):
        chain.mine(deltatime=120)
        twap.update(sender=protocol.keeper)
    end = chain.blocks.head.timestamp
    assert twap.twap_between(end - 400, end) == price
    assert twap.twap_between(end - 333, end - 17) == price


def test_update_respects_min_spacing(protocol, chain):
    twap = protocol.twap
    chain.mine(deltatime=60)
    twap.update(sender=protocol.keeper)
    index = twap.index()
    # Same block time + 1 s < min_spacing (12 s): no new observation.
    chain.pending_timestamp = chain.blocks.head.timestamp + 1
    twap.update(sender=protocol.attacker)
    assert twap.index() == index
    chain.pending_timestamp = chain.blocks.head.timestamp + 12
    twap.update(sender=protocol.attacker)
    assert twap.index() == index + 1


def test_ring_buffer_wraps_and_forgets_oldest(project, protocol, chain):
    small = project.TwapOracle.deploy(protocol.pool.address, 4, 1, sender=protocol.deployer)
    stamps = [chain.blocks.head.timestamp]
    for _ in range(9):
        chain.mine(deltatime=10)
        small.update(sender=protocol.keeper)
        stamps.append(chain.blocks.head.timestamp)
    assert small.cardinality() == 4
    # Four slots keep the four newest observations.
    assert small.oldest_timestamp() == stamps[-4]
    ts, _ = small.observation(small.index())
    assert ts == stamps[-1]
    with ape.reverts("twap: history shorter than window"):
        small.twap_between(stamps[-5], stamps[-1])
    assert small.twap_between(stamps[-4], stamps[-1]) == protocol.pool.spot_price()


def test_grow_and_spacing_bounds_and_access(project, protocol):
    twap = protocol.twap
    with ape.reverts("twap: cardinality out of bounds"):
        twap.grow(1_025, sender=protocol.attacker)
    with ape.reverts("twap: cardinality not larger"):
        twap.grow(10, sender=protocol.attacker)
    with ape.reverts("ownable: caller is not the owner"):
        twap.set_min_spacing(30, sender=protocol.attacker)
    with ape.reverts("twap: spacing out of bounds"):
        twap.set_min_spacing(0, sender=protocol.deployer)
    with ape.reverts("twap: spacing out of bounds"):
        twap.set_min_spacing(3_601, sender=protocol.deployer)
    twap.set_min_spacing(30, sender=protocol.deployer)
    assert twap.min_spacing() == 30
    with ape.reverts("twap: cardinality out of bounds"):
        project.TwapOracle.deploy(protocol.pool.address, 1, 12, sender=protocol.deployer)
    with ape.reverts("twap: spacing out of bounds"):
        project.TwapOracle.deploy(protocol.pool.address, 8, 0, sender=protocol.deployer)


def test_twap_reads_full_history_at_1024_observations(protocol, chain):
    """Fill the ring past its cardinality; the binary search still finds short and long windows."""
    twap = protocol.twap
    price = protocol.pool.spot_price()
    for _ in range(1_030):  # one observation per block, each block 12 s after the previous
        chain.pending_timestamp = chain.blocks.head.timestamp + 12
        twap.update(sender=protocol.keeper)
    assert twap.cardinality() == 1_024
    newest, _ = twap.observation(twap.index())
    assert newest - twap.oldest_timestamp() == 1_023 * 12
    for window in (60, 1_800, 12_000):
        assert twap.twap(window) == price
    with ape.reverts("twap: history shorter than window"):
        twap.twap(chain.pending_timestamp - twap.oldest_timestamp() + 1)
