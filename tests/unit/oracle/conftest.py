"""Fixtures for the oracle contracts.

VolFeed (volatility feed), with the role fixtures of tests/conftest.py: `deployer` (its owner),
`reporter` (pushes slices), `attacker` (neither). `create_vol_feed(...)` builds a fresh feed,
`vol_feed` is one with `reporter` appointed and a one-hour `max_age`, and `fitted_vol_feed`
carries the committed 2024-05-24 ETH surface (data/svi_eth_2024-05-24.json) re-dated to the
chain's clock. Session-scoped; the chain is restored after each test.
"""

import pytest

from dsi.reference import svi_fit

VOL_MAX_AGE = 3_600


@pytest.fixture(scope="session")
def create_vol_feed(build):
    """create_vol_feed(reporter=ZERO, max_age=VOL_MAX_AGE): a fresh VolFeed owned by `deployer`."""

    def _create(reporter="0x0000000000000000000000000000000000000000", max_age=VOL_MAX_AGE):
        return build.vol_feed(reporter, max_age)

    return _create


@pytest.fixture(scope="session")
def vol_feed(create_vol_feed, reporter):
    return create_vol_feed(reporter)


@pytest.fixture(scope="session")
def vol_surface():
    """The committed fitted surface (data/svi_eth_2024-05-24.json), as loaded JSON."""
    return svi_fit.load_surface()


@pytest.fixture(scope="session")
def fitted_vol_feed(create_vol_feed, reporter, vol_surface, chain):
    """A VolFeed holding every committed slice, expiries re-dated by `surface_for_chain` to the
    clock at deployment; returns (feed, re-dated surface)."""
    feed = create_vol_feed(reporter, 86_400)
    surface = svi_fit.surface_for_chain(chain.pending_timestamp, vol_surface)
    for e in surface:
        p = e["params_wad"]
        feed.push(e["expiry_ts"], p["a"], p["b"], p["rho"], p["m"], p["sigma"], sender=reporter)
    return feed, surface
