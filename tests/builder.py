"""The one place that builds test deployments: `Builder`, over `dsi.protocol`.

The conftests' worlds are made of these steps; a test that needs a deployment of its own asks
the `build` fixture (tests/conftest.py: on the in-process chain; `node_build` on anvil):

- the protocol's layers, exactly as `dsi.protocol` wires them: `protocol(params)` (`deploy`),
  `margin(p)` (`deploy_margin`), `liquidation(p, mechanism, ...)` (`deploy_liquidation`) and
  `governed(p)` (`dsi.governance.govern`: the timelock and the risk governor take every
  contract over), `mechanism(p, name)` (another mechanism against the same engine and fund, for tests that
  switch between them);
- seeding: `vol_slice`, `list_series`, `twap_history`, `fresh_oracle`, `deposit` (mint, approve and
  deposit into the margin engine);
- the market and oracle pieces on their own, for their unit tests: `token`, `pool` (seeded by an
  LP), `lender` (funded), `vol_feed`.
"""

from __future__ import annotations

from dsi.protocol import MECHANISMS, Params, deploy, deploy_liquidation, deploy_margin, role_accounts

WAD = 10**18
USD = 10**6
MAX = 2**256 - 1


class Builder:
    def __init__(self, project, accounts, chain):
        self.project, self.accounts, self.chain = project, accounts, chain
        self.deployer = role_accounts(accounts)["deployer"]

    # --- the protocol's layers ------------------------------------------------------------------

    def protocol(self, params: Params | None = None):
        """`dsi.protocol.deploy`: tokens, pool, lender, oracles, pricer, options layer."""
        return deploy(self.project, self.accounts, params or Params())

    def margin(self, protocol, **kwargs):
        """`dsi.protocol.deploy_margin` on `protocol` (vol feed, calculator, risk arrays, engine)."""
        return deploy_margin(self.project, protocol, **kwargs)

    def liquidation(self, protocol, mechanism: str = "dutch", **kwargs):
        """`dsi.protocol.deploy_liquidation`: the insurance fund and one mechanism, wired."""
        return deploy_liquidation(self.project, protocol, mechanism, **kwargs)

    def governed(self, protocol, **kwargs):
        """`dsi.governance.govern`: the timelock and the risk governor own every contract."""
        from dsi.governance import govern

        return govern(self.project, protocol, **kwargs)

    def mechanism(self, protocol, name: str):
        """Another liquidation mechanism against the protocol's engine and fund (not wired)."""
        p = protocol
        return getattr(self.project, MECHANISMS[name]).deploy(
            p.engine.address, p.insurance_fund.address, p.oracle.address, p.series.address,
            p.vol_feed.address, p.calculator.address, p.usd.address, sender=p.deployer,
        )

    # --- seeding --------------------------------------------------------------------------------

    @staticmethod
    def vol_slice(protocol, expiry: int, params_wad) -> None:
        """The reporter pushes an SVI slice (a, b, rho, m, sigma in WAD) for `expiry`."""
        protocol.vol_feed.push(expiry, *params_wad, sender=protocol.reporter)

    @staticmethod
    def list_series(protocol, expiry: int, kinds, american: bool = False) -> dict:
        """Lists (strike in USD, is_call) for `expiry`; returns {(strike, is_call): series id}."""
        ids = {}
        for strike, is_call in kinds:
            protocol.series.list_series(strike * WAD, expiry, is_call, american, sender=protocol.deployer)
            ids[(strike, is_call)] = protocol.series.find_series(strike * WAD, expiry, is_call, american)
        return ids

    def twap_history(self, protocol, blocks: int, step: int = 60) -> None:
        """`blocks` blocks `step` seconds apart, the keeper writing a TWAP observation in each."""
        for _ in range(blocks):
            self.chain.mine(deltatime=step)
            protocol.twap.update(sender=protocol.keeper)

    @staticmethod
    def fresh_oracle(protocol, price_wad: int) -> None:
        """The reporter prints `price_wad` and the keeper pokes the oracle."""
        protocol.feed.submit(price_wad, sender=protocol.reporter)
        protocol.oracle.poke(sender=protocol.keeper)

    @staticmethod
    def deposit(protocol, account, usd: float = 0.0, weth: float = 0.0, sub: int = 0,
                mode: int | None = None):
        """Mints `usd` / `weth` to `account`, approves the engine and deposits them on `sub`;
        sets the sub-account's margin `mode` when given."""
        u, w = int(usd * USD), int(weth * WAD)
        engine = protocol.engine
        if u:
            protocol.usd.mint(account, u, sender=protocol.deployer)
            protocol.usd.approve(engine.address, u, sender=account)
        if w:
            protocol.weth.mint(account, w, sender=protocol.deployer)
            protocol.weth.approve(engine.address, w, sender=account)
        engine.deposit(sub, u, w, sender=account)
        if mode:
            engine.set_mode(sub, mode, sender=account)

    # --- market and oracle pieces on their own --------------------------------------------------

    def token(self, name: str, symbol: str, decimals: int):
        """A CollateralToken owned (and minted) by the deployer."""
        return self.project.CollateralToken.deploy(name, symbol, decimals, sender=self.deployer)

    def pool(self, weth, usd, lp=None, weth_amount: int = 0, usd_amount: int = 0):
        """A WETH/USD SpotPool; seeded by `lp` (minted, approved, added) when amounts are given."""
        pool = self.project.SpotPool.deploy(weth, usd, sender=self.deployer)
        if lp is not None and (weth_amount or usd_amount):
            for token, amount in ((weth, weth_amount), (usd, usd_amount)):
                token.mint(lp, amount, sender=self.deployer)
                token.approve(pool, amount, sender=lp)
            pool.add_liquidity(weth_amount, usd_amount, 0, lp, sender=lp)
        return pool

    def lender(self, deposits: dict):
        """A FlashLender of the tokens of `deposits` {token: amount}, deposited by the deployer."""
        d = self.deployer
        lender = self.project.FlashLender.deploy(list(deposits), sender=d)
        for token, amount in deposits.items():
            token.mint(d, amount, sender=d)
            token.approve(lender, amount, sender=d)
            lender.deposit(token, amount, sender=d)
        return lender

    def vol_feed(self, reporter, max_age: int):
        """A VolFeed owned by the deployer, `reporter` appointed (the zero address: nobody)."""
        return self.project.VolFeed.deploy(reporter, max_age, sender=self.deployer)
