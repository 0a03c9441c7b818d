"""`ape run keeper --network ... --account ... --liquidator 0x...`: the liquidation keeper bot.

Watches the margin engine's accounts (from its PositionChanged events), starts / resets Dutch
auctions and takes accounts when the take pays after gas at `--gas-price` gwei, logging every
action (gas used, profit). The decision logic is `dsi.agents.keeper.Keeper` (the lab's keeper
agent). The protocol is found from the liquidator's address (engine, fund, oracle, USD).

`--demo` (local networks): deploys the protocol with the chosen `--mechanism`, writes a short-put
book at 1.02 x initial margin, moves the market 13% down and runs the keeper on it with a
test account, so `ape run keeper --demo` shows a full cycle on anvil.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

WAD = 10**18


def _protocol_from_liquidator(project, address: str):
    for name, mechanism in (("DutchAuction", "dutch"), ("FixedPenalty", "fixed"), ("DynamicFee", "dynamic")):
        liq = getattr(project, name).at(address)
        try:
            if mechanism == "dutch":
                liq.curve()
            elif mechanism == "fixed":
                liq.penalty()
            else:
                liq.k_velocity()
        except Exception:
            continue
        fund = project.InsuranceFund.at(liq.fund())
        return SimpleNamespace(liquidator=liq, mechanism=mechanism, engine=project.MarginEngine.at(liq.engine()),
                               insurance_fund=fund, oracle=project.ProtocolOracle.at(liq.oracle()),
                               usd=project.CollateralToken.at(fund.usd()))
    raise click.ClickException(f"{address} is not a DSI liquidator")


def _demo(project, accounts, mechanism: str):
    from dsi.agents.arbitrageur import trade_to_price
    from dsi.protocol import deploy, deploy_liquidation, deploy_margin

    p = deploy_liquidation(project, deploy_margin(project, deploy(project, accounts)), mechanism, fund_capital=50_000)
    from ape import chain

    d, w = p.deployer, p.writer
    expiry = chain.blocks.head.timestamp + 30 * 86_400
    p.vol_feed.push(expiry, 10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17, sender=p.reporter)
    p.series.list_series(2_700 * WAD, expiry, False, False, sender=d)
    sid = p.series.find_series(2_700 * WAD, expiry, False, False)
    for _ in range(30):
        chain.mine(deltatime=60)
        p.twap.update(sender=p.keeper)
    p.feed.submit(3_000 * WAD, sender=p.reporter)
    p.usd.mint(w, 10**12, sender=d)
    p.usd.approve(p.engine.address, 10**12, sender=w)
    p.engine.deposit(0, 10**11, 0, sender=w)
    p.engine.set_mode(0, 1, sender=w)
    p.engine.open_short(0, sid, 10 * WAD, sender=w)
    need = p.engine.margin(w, 0).initial * 102 // 100 // 10**12 * 100 // 99
    p.engine.withdraw(0, p.engine.account(w, 0)[1] - need, 0, sender=w)
    k = p.keeper
    p.usd.mint(k, 10**12, sender=d)
    p.usd.approve(p.engine.address, 10**12, sender=k)
    p.engine.deposit(1, 5 * 10**11, 0, sender=k)
    p.engine.set_mode(1, 1, sender=k)
    trade_to_price(p, 2_600 * WAD)
    p.feed.submit(2_600 * WAD, sender=p.reporter)
    click.echo(f"demo: {mechanism} liquidator {p.liquidator.address}; writer's account health "
               f"{p.engine.margin(w, 0).health / WAD:.3f} at 2,600")
    return p, k


@click.command(cls=ConnectedProviderCommand)
@network_option()
@account_option()
@click.option("--liquidator", "liquidator_address", default=None, help="address of the wired liquidator")
@click.option("--taker-sub", default=1, show_default=True, help="the keeper's margin sub-account that takes")
@click.option("--gas-price", default=30.0, show_default=True, help="gwei, for the profitability test")
@click.option("--delay", default=0, show_default=True, help="seconds an account must stay liquidatable first")
@click.option("--interval", default=12.0, show_default=True, help="seconds between scans")
@click.option("--steps", default=0, show_default=True, help="scans before exiting (0: run forever)")
@click.option("--demo", is_flag=True, help="local only: deploy a crashed book and liquidate it")
@click.option("--mechanism", type=click.Choice(["dutch", "fixed", "dynamic"]), default="dutch", show_default=True,
              help="with --demo: the mechanism to deploy")
def cli(network, account, liquidator_address, taker_sub, gas_price, delay, interval, steps, demo, mechanism):
    from ape import accounts, chain, project

    from dsi.agents.keeper import Keeper

    if demo:
        protocol, account = _demo(project, accounts, mechanism)
        steps = steps or 3
        interval = 0
    elif liquidator_address:
        protocol = _protocol_from_liquidator(project, liquidator_address)
    else:
        raise click.UsageError("give --liquidator ADDRESS (or --demo on a local network)")
    keeper = Keeper(protocol, account, gas_price_gwei=gas_price, delay=delay, taker_sub=taker_sub, chain=chain)
    click.echo(f"keeper {account.address} on {protocol.mechanism} at {gas_price} gwei, delay {delay} s")
    n = 0
    while not steps or n < steps:
        for a in keeper.step():
            click.echo(f"block {chain.blocks.head.number}: {a.kind} {a.owner} sub {a.sub} gas {a.gas_used:,} "
                       f"profit {a.profit_usd:,.2f} USD {a.detail or ''}")
        n += 1
        if interval:
            time.sleep(interval)
    total = sum(a.profit_usd for a in keeper.log)
    click.echo(f"done: {len(keeper.log)} actions, net profit {total:,.2f} USD")
