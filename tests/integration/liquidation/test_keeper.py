"""The keeper agent (dsi/agents/keeper.py): finds accounts from engine events, starts and takes
when it pays after gas, skips when gas costs more than the take earns. On anvil: the keeper's
live-network path (accounts from `PositionChanged` events over block ranges, gas from
eth_estimateGas)."""

from __future__ import annotations

from types import SimpleNamespace

from dsi.agents.keeper import Keeper

from conftest import TAKER_SUB, WAD


def _protocol(world, name):
    liq = world.use(name)
    p = world.p
    return SimpleNamespace(liquidator=liq, mechanism=name, engine=p.engine, insurance_fund=p.insurance_fund,
                           oracle=p.oracle, usd=p.usd)


def test_keeper_starts_and_takes_dutch_auction_when_profitable(node_world, node_underwater):
    world = node_world
    owner, sub = node_underwater()
    keeper = Keeper(_protocol(world, "dutch"), world.p.keeper, gas_price_gwei=1.0, taker_sub=TAKER_SUB,
                    chain=world.chain)
    actions = keeper.step()
    kinds = [(a.kind, a.owner, a.sub) for a in actions]
    assert ("start", owner, sub) in kinds and ("take", owner, sub) in kinds
    take = next(a for a in actions if a.kind == "take")
    assert take.gas_used > 0 and take.profit_usd > 0
    assert take.detail["value_usd"] > take.detail["pay_usd"]
    assert not world.p.liquidator.is_liquidatable(owner, sub)  # restored to initial margin


def test_keeper_skips_when_gas_costs_more_than_the_take_earns(node_world, node_underwater):
    world = node_world
    owner, sub = node_underwater()
    keeper = Keeper(_protocol(world, "fixed"), world.p.keeper, gas_price_gwei=100_000.0, taker_sub=TAKER_SUB,
                    chain=world.chain)
    actions = [a for a in keeper.step() if a.owner == owner]
    assert [(a.kind, a.owner, a.sub) for a in actions] == [("skip", owner, sub)]
    assert actions[0].detail["gas_cost_usd"] > actions[0].detail["gain_usd"] > 0
    assert world.engine.positions(owner, sub)[0].amount == -10 * WAD  # nothing taken
