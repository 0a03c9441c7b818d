"""The liquidation-mechanism axis of the lab, and the keeper slot.

Until the liquidation branch merges, `none` is the only mechanism: nothing liquidates and the
keeper slot only pokes the oracle. When `dsi.protocol.deploy_liquidation(project, protocol,
mechanism)` and `dsi.agents.keeper` exist, `available()` lists their mechanisms and
`install(world, mechanism)` deploys the mechanism and returns the keeper agent whose `step()`
scans and acts.
"""

from __future__ import annotations

NONE = "none"


def available() -> tuple[str, ...]:
    import dsi.protocol as protocol

    extra = tuple(getattr(protocol, "LIQUIDATION_MECHANISMS", ()))
    if extra and hasattr(protocol, "deploy_liquidation"):
        return (NONE,) + tuple(m for m in extra if m != NONE)
    return (NONE,)


class PokeOnlyKeeper:
    """The keeper slot under `none`: keeps the oracle's observations current, liquidates nothing."""

    mechanism = NONE

    def __init__(self, protocol):
        self.protocol = protocol
        self.liquidations = 0
        self.pnl = 0.0

    def step(self) -> None:
        p = self.protocol
        p.twap.update(sender=p.keeper)
        p.oracle.poke(sender=p.keeper)


def install(backend, protocol, mechanism: str):
    if mechanism == NONE:
        return PokeOnlyKeeper(protocol)
    if mechanism not in available():
        raise ValueError(f"scenarios: mechanism {mechanism!r} is not available (available: {available()})")
    from dsi.agents.keeper import Keeper  # the liquidation branch's agent
    from dsi.protocol import deploy_liquidation

    deploy_liquidation(backend.project, protocol, mechanism)
    return Keeper(protocol)
