"""Margin-engine fixtures: the protocol plus a vol surface, listed series and the engine."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dsi.protocol import deploy_margin
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

    @property
    def model(self):
        """The margin model: risk parameters and account valuation."""
        return self.protocol.model

    def market(self, chain) -> M.Market:
        tte = self.expiry - chain.blocks.head.timestamp
        spot = self.protocol.oracle.price()[0] / WAD
        return M.Market(spot=spot, surfaces={tte: SLICE}), tte


@pytest.fixture(scope="session")
def margin_world(project, protocol, chain):
    p = deploy_margin(project, protocol)
    d = p.deployer
    vol_feed, engine = p.vol_feed, p.engine
    expiry = chain.blocks.head.timestamp + 30 * DAY
    vol_feed.push(expiry, *(int(round(x * WAD)) for x in (SLICE.a, SLICE.b, SLICE.rho, SLICE.m, SLICE.sigma)),
                  sender=p.reporter)
    ids = {}
    for strike, is_call in ((3300, True), (3600, True), (2700, False), (2400, False), (3000, True), (3000, False)):
        p.series.list_series(strike * WAD, expiry, is_call, False, sender=d)
        ids[(strike, is_call)] = p.series.find_series(strike * WAD, expiry, is_call, False)
    return MarginWorld(protocol=p, engine=engine, vol_feed=vol_feed, expiry=expiry, ids=ids)


@pytest.fixture
def fund_account(margin_world):
    """fund_account(account, usd, weth=0, sub=0): mint and deposit collateral."""
    p, engine = margin_world.protocol, margin_world.engine

    def _fund(account, usd: float, weth: float = 0.0, sub: int = 0):
        u, w = int(usd * 10**6), int(weth * WAD)
        if u:
            p.usd.mint(account, u, sender=p.deployer)
            p.usd.approve(engine.address, u, sender=account)
        if w:
            p.weth.mint(account, w, sender=p.deployer)
            p.weth.approve(engine.address, w, sender=account)
        engine.deposit(sub, u, w, sender=account)

    return _fund

