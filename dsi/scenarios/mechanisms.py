"""The liquidation-mechanism axis of the lab, and the keeper slot.

Mechanisms: `none` (nobody liquidates: the baseline that measures what is at stake) and the
three of `dsi.protocol.LIQUIDATION_MECHANISMS` (`dutch`, `fixed`, `dynamic`). `install(backend,
protocol, mechanism, params)` deploys the insurance fund and the mechanism (fund seeded with
`params.fund_capital`) and returns the keeper slot's agent; `step()` is called every block.

- `none`: `PokeOnlyKeeper` keeps the oracle's observations current and liquidates nothing.
- otherwise: `LabKeeper` pokes the oracle likewise, then runs the liquidation keeper
  (`dsi.agents.keeper.Keeper`, the same logic as `ape run keeper`) at `params.keeper_gas_gwei`
  with `params.keeper_delay`, on the accounts the scenario `watch`es. Its taker account is the
  keeper role's sub-account 1 (cross margin, `KEEPER_CAPITAL` USD), its wallet pays the takes
  and the fund's fee.
"""

from __future__ import annotations

NONE = "none"
KEEPER_SUB = 1
KEEPER_CAPITAL = 5_000_000.0  # USD in the keeper's taker account (it must stay above initial margin)
KEEPER_WALLET = 5_000_000.0  # USD in the keeper's wallet (payments for takes, the fund's fee)


def available() -> tuple[str, ...]:
    from dsi.protocol import LIQUIDATION_MECHANISMS

    return (NONE,) + tuple(m for m in LIQUIDATION_MECHANISMS if m != NONE)


class PokeOnlyKeeper:
    """The keeper slot under `none`: keeps the oracle's observations current, liquidates nothing."""

    mechanism = NONE
    liquidations = 0
    pnl = 0.0
    gas_spent = 0

    def __init__(self, protocol):
        self.protocol = protocol
        self.log = []

    def watch(self, owner, sub: int) -> None:
        pass

    def reset(self) -> None:
        pass

    def step(self) -> list:
        p = self.protocol
        p.twap.update(sender=p.keeper)
        p.oracle.poke(sender=p.keeper)
        if "monitor" in p.extra:  # the stress monitor, after the oracle and before any liquidation
            p.monitor.poke(sender=p.keeper)
        return []


class LabKeeper(PokeOnlyKeeper):
    """Pokes the oracle like `PokeOnlyKeeper`, then liquidates through `dsi.agents.keeper.Keeper`.
    `active = False` models an absent keeper (it still pokes: the observations are public)."""

    def __init__(self, backend, protocol, mechanism: str, gas_price_gwei: float, delay: int):
        from dsi.agents.keeper import Keeper

        super().__init__(protocol)
        self.mechanism = mechanism
        p, d, k = protocol, protocol.deployer, protocol.keeper
        p.usd.mint(k, p.usd_units(KEEPER_CAPITAL + KEEPER_WALLET), sender=d)
        p.usd.approve(p.engine.address, 2**256 - 1, sender=k)
        p.engine.deposit(KEEPER_SUB, p.usd_units(KEEPER_CAPITAL), 0, sender=k)
        p.engine.set_mode(KEEPER_SUB, 1, sender=k)
        self.agent = Keeper(protocol, k, gas_price_gwei=gas_price_gwei, delay=delay, taker_sub=KEEPER_SUB,
                            chain=backend.chain, sync_insolvent=True)
        self.log = self.agent.log  # the same list (the agent extends and clears it in place)
        self.active = True

    def watch(self, owner, sub: int) -> None:
        self.agent.watch(owner, sub)

    def reset(self) -> None:
        self.agent.reset()

    def step(self) -> list:
        super().step()
        if not self.active:
            return []
        return self.agent.step()

    @property
    def liquidations(self) -> int:
        return self.agent.liquidations

    @property
    def pnl(self) -> float:
        return self.agent.pnl

    @property
    def gas_spent(self) -> int:
        return self.agent.gas_spent


def install(backend, protocol, mechanism: str, params=None, reserve: tuple | None = None):
    """Wire `mechanism` into `protocol` (a protocol with the margin layer) and return the keeper
    slot's agent. `reserve` (base gas, gas per position, gas price in wei) turns the liquidation
    reserve on (writers then post it before opening shorts: `dsi.agents.book.post_reserve`)."""
    if mechanism == NONE:
        return PokeOnlyKeeper(protocol)
    if mechanism not in available():
        raise ValueError(f"scenarios: mechanism {mechanism!r} is not available (available: {available()})")
    from dsi.protocol import Params, deploy_liquidation

    params = params or Params()
    deploy_liquidation(backend.project, protocol, mechanism, fund_capital=params.fund_capital, reserve=reserve)
    return LabKeeper(backend, protocol, mechanism, params.keeper_gas_gwei, params.keeper_delay)
