"""`ape run gas_report`: gas and accuracy of the pricing library, printed and written to reports/gas.json.

The 10,000-point accuracy sweep runs on the in-process EVM (titanoboa); the external-call
gas of the deployed OptionPricer is then measured on the connected network (anvil by default).
`--only margin` (or `oracle`, `liquidation`, `governance`, `pricing`, `calls`; repeatable) runs a subset and merges its rows
into reports/gas.json, keeping the other rows. `--only settlement` prints the settlement bounds table (pool
pushes before expiry against the settlement price, in process: `dsi.bench.settlement`) and writes
reports/settlement.json.
"""

import click
from ape.cli import ConnectedProviderCommand, network_option

from dsi.bench import governance as governance_bench
from dsi.bench import liquidation as liquidation_bench
from dsi.bench import margin as margin_bench
from dsi.bench import oracle as oracle_bench
from dsi.bench import pricing
from dsi.bench import settlement as settlement_bench
from dsi.bench.report import format_table, write_rows
from dsi.chain._ape import untraced_anvil

# Gas comes from receipts: no step tracing (a traced take@32 grows anvil past 24 GB).
untraced_anvil()

PARTS = ("calls", "oracle", "margin", "liquidation", "governance", "pricing", "settlement")


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--points", default=10_000, show_default=True, help="random points per routine")
@click.option("--only", "only", multiple=True, type=click.Choice(PARTS),
              help="run only these parts (repeatable); default: all")
def cli(network, points, only):
    from ape import accounts, chain, project

    parts = set(only or PARTS)
    rows = []
    if "calls" in parts:
        _calls(network, accounts, project)
    market_rows = []
    if "oracle" in parts:
        market_rows += oracle_bench.measure(project, accounts, chain)
    if "margin" in parts:
        market_rows += margin_bench.measure(project, accounts, chain)
    if market_rows:
        click.echo(f"\nMarket, oracle and margin on {network.name if hasattr(network, 'name') else network} "
                   "(execution gas: excludes the 21,000 base and calldata):")
        click.echo(format_table(market_rows))
        rows += market_rows
    if "liquidation" in parts:
        net = network.name if hasattr(network, "name") else network
        liquidation_rows = liquidation_bench.measure(project, accounts, chain)
        click.echo(f"\nLiquidation on {net} (execution gas: excludes the 21,000 base and calldata):")
        click.echo(format_table(liquidation_rows))
        for r in liquidation_rows:
            if "reward_usd" in r:
                click.echo(f"  {r['name']}: reward {r['reward_usd']:,.2f} USD (discount {r['discount_usd']:.4f} USD + "
                           f"reserve {r['reserve_eth']:.4f} ETH) vs gas {r['gas_median']:,}: "
                           + ", ".join(f"{r[f'cost_usd_{g}_gwei']:,.2f} USD at {g} gwei (profit "
                                       f"{r[f'profit_usd_{g}_gwei']:,.2f})" for g in (30, 500, 1_000))
                           + f" (ETH {r['eth_usd']:,.0f})")
        rows += liquidation_rows
    if "governance" in parts:
        governance_rows = governance_bench.measure(project, accounts, chain)
        click.echo("\nGovernance on the node (execution gas: excludes the 21,000 base and calldata):")
        click.echo(format_table(governance_rows))
        rows += governance_rows
    if "pricing" in parts:
        pricing_rows = pricing.measure(n=points)
        click.echo(f"\nIn-process EVM, {points} random points per routine (gas = the routine itself):")
        click.echo(format_table(pricing_rows))
        rows += pricing_rows
    if rows:
        path = write_rows(rows)
        click.echo(f"\nwrote {path.relative_to(path.parent.parent)}")
    if "settlement" in parts:
        import time

        t0 = time.perf_counter()
        settlement_rows = settlement_bench.measure()
        seconds = time.perf_counter() - t0
        click.echo(f"\nSettlement under pool pushes, in process (revm), {len(settlement_rows)} rows in {seconds:.1f} s:")
        click.echo(settlement_bench.table(settlement_rows))
        path = settlement_bench.write(settlement_rows, seconds)
        click.echo(f"\nwrote {path.relative_to(path.parent.parent)}")


def _calls(network, accounts, project):
    deployer = accounts.test_accounts[0]
    pricer = project.OptionPricer.deploy(sender=deployer)
    spot, strike, tte, vol, rate = 3000 * 10**18, 3300 * 10**18, 30 * 86400, 8 * 10**17, 5 * 10**16
    price = pricer.price(spot, strike, tte, vol, rate, True)
    calls = {
        "OptionPricer.price (tx gas)": pricer.price.estimate_gas_cost(spot, strike, tte, vol, rate, True, sender=deployer),
        "OptionPricer.greeks (tx gas)": pricer.greeks.estimate_gas_cost(spot, strike, tte, vol, rate, True, sender=deployer),
        "OptionPricer.implied_vol (tx gas)": pricer.implied_vol.estimate_gas_cost(price, spot, strike, tte, rate, True, sender=deployer),
        "OptionPricer.norm_cdf (tx gas)": pricer.norm_cdf.estimate_gas_cost(-3 * 10**18, sender=deployer),
    }
    click.echo(f"External calls on {network.name if hasattr(network, 'name') else network} "
               "(ETH 3000, K 3300, 30 days, 80% vol; includes the 21,000 base and calldata):")
    for name, gas in calls.items():
        click.echo(f"  {name:<36} {gas:>8}")
