"""`ape run capital_efficiency`: the initial requirement of the standard option books under full
collateral (the OptionsVault), isolated, cross and portfolio margin (the MarginEngine), measured
on the connected network (anvil by default) next to the reference model, printed as a markdown
table and written to reports/capital_efficiency.json.

The books, the market
(the Deribit ETH surface of 2024-05-24) and the measurement are described in
`dsi/bench/capital.py`.
"""

import click
from ape.cli import ConnectedProviderCommand, network_option

from dsi.bench import capital


@click.command(cls=ConnectedProviderCommand)
@network_option()
@click.option("--book", "books", multiple=True, help="only these books (repeatable, by name)")
def cli(network, books):
    from ape import accounts, chain, project

    table = capital.measure(project, accounts, chain, names=set(books) or None)
    click.echo(capital.format_table(table))
    path = capital.write(table)
    click.echo(f"\nwrote {path.relative_to(path.parent.parent)}")
