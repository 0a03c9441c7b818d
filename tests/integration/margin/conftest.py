"""Margin-engine fixtures: the protocol plus a vol surface, listed series and the engine."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from builder import Builder

from dsi.reference import margin as M

WAD = 10**18
DAY = 86_400
SLICE = M.Svi(a=0.01, b=0.08, rho=-0.3, m=0.0, sigma=0.2)  # ~56% ATM at 30 days, put skew


@dataclass
class MarginWorld:
    protocol: object
    engine: object
    vol_feed: object
    expiry: int
    ids: dict  # (strike, is_call) -> series id
    chain: object = None

    @property
    def model(self):
        """The margin model: risk parameters and account valuation."""
        return self.protocol.model

    def market(self, chain) -> M.Market:
        tte = self.expiry - chain.blocks.head.timestamp
        spot = self.protocol.oracle.price()[0] / WAD
        return M.Market(spot=spot, surfaces={tte: SLICE}), tte


KINDS = ((3300, True), (3600, True), (2700, False), (2400, False), (3000, True), (3000, False))


def build_margin_world(build, protocol) -> MarginWorld:
    """The margin layer on `protocol`, one 30-day slice and the six series of KINDS."""
    p = build.margin(protocol)
    expiry = build.chain.blocks.head.timestamp + 30 * DAY
    svi = (SLICE.a, SLICE.b, SLICE.rho, SLICE.m, SLICE.sigma)
    build.vol_slice(p, expiry, [int(round(x * WAD)) for x in svi])
    ids = build.list_series(p, expiry, KINDS)
    return MarginWorld(protocol=p, engine=p.engine, vol_feed=p.vol_feed, expiry=expiry, ids=ids,
                       chain=build.chain)


@pytest.fixture(scope="session")
def margin_world(build, protocol):
    return build_margin_world(build, protocol)


@pytest.fixture(scope="session")
def node_margin_world(node_build, node_protocol):
    """The same world on anvil (gas figures)."""
    return build_margin_world(node_build, node_protocol)


def _funder(world):
    """fund_account(account, usd, weth=0, sub=0): mint and deposit collateral."""

    def _fund(account, usd: float, weth: float = 0.0, sub: int = 0):
        Builder.deposit(world.protocol, account, usd, weth, sub)

    return _fund


@pytest.fixture
def fund_account(margin_world):
    """fund_account(account, usd, weth=0, sub=0): mint and deposit collateral."""
    return _funder(margin_world)


@pytest.fixture
def node_fund_account(node_margin_world):
    return _funder(node_margin_world)
