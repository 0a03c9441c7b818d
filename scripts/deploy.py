"""`ape run deploy --network <ecosystem:network:provider> --account <alias> [--params FILE]`

Deploys and wires the whole protocol on any network Ape connects to, once: re-running finds the
deployment in deployments/<chain-id>.json, checks the code is still there and sends nothing.
The manifest holds the addresses, the parameters, the block and the chain id.
"""

from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, account_option, network_option

ROOT = Path(__file__).resolve().parent.parent


@click.command(cls=ConnectedProviderCommand, short_help="Deploy the DSI protocol (idempotent)")
@network_option()
@account_option()
@click.option("--params", "params_file", type=click.Path(dir_okay=False), default=str(ROOT / "params" / "default.toml"),
              show_default=True, help="Parameter file (TOML, see params/default.toml)")
@click.option("--out", type=click.Path(file_okay=False), default=str(ROOT / "deployments"), show_default=True,
              help="Folder of the deployment manifests")
def cli(network, account, params_file, out):
    from ape import chain, project

    from dsi.chain import ApeChain
    from dsi.deployment import deploy_or_load
    from dsi.protocol import Params

    params = Params.from_file(params_file)
    facade = ApeChain(chain, block_interval=None)  # a real network keeps its own clock
    manifest = deploy_or_load(project, facade, account, params, folder=out, log=click.echo)
    for name, entry in manifest["contracts"].items():
        click.echo(f"  {name:<13} {entry['type']:<16} {entry['address']}")
