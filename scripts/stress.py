"""`ape run stress` (`make stress`): run the scenario catalog per liquidation mechanism, print a
summary table, write stress-reports/<UTC time>/report.md + PNG charts + summary.json, and exit
non-zero when any scenario fails its criteria.

Scenarios marked `ape` run on the connected network (default: a local anvil that Ape starts),
each inside a snapshot that is reverted afterwards; `revm` scenarios (long replays, Monte Carlo)
run in process on the same bytecode.

    ape run stress                                   # the standard suite
    ape run stress --scenario flash_pump --scenario replay_2020_03_12 --params params/default.toml
    ape run stress --quick                           # shortened runs
"""

import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

ROOT = Path(__file__).resolve().parent.parent


@click.command(cls=ConnectedProviderCommand, short_help="Run the DSI stress lab")
@network_option()
@click.option("--scenario", "names", multiple=True, help="Scenario name (repeatable); default: the standard suite")
@click.option("--params", "params_file", default=str(ROOT / "params" / "default.toml"), show_default=True,
              type=click.Path(dir_okay=False), help="Protocol parameter file (TOML)")
@click.option("--data", "data", default="../shared/data", show_default=True,
              help="Folder of the real market data (SOURCES.md)")
@click.option("--mechanism", "mechs", multiple=True, help="Liquidation mechanism (repeatable); default: all available")
@click.option("--quick", is_flag=True, help="Shortened runs (as the tests run them)")
@click.option("--out", default=str(ROOT / "stress-reports"), show_default=True, type=click.Path(file_okay=False))
def cli(network, names, params_file, data, mechs, quick, out):
    from ape import accounts, chain, project

    from dsi import data as market_data
    from dsi.protocol import Params
    from dsi.report import summary_table, write_report
    from dsi.scenarios import CATALOG, STANDARD_SUITE, BackendMaker, Context, get, mechanisms

    from ape.logging import logger

    logger.set_level("WARNING")  # one "Confirmed ..." line per transaction would bury the table
    t0 = time.perf_counter()
    params = Params.from_file(params_file)
    try:
        market_data.data_dir(data)
    except market_data.DataMissing as e:
        raise click.ClickException(str(e))
    scenarios = [get(n) for n in (names or STANDARD_SUITE)]
    available = mechanisms.available()
    mechs = mechs or available
    for m in mechs:
        if m not in available:
            raise click.ClickException(f"stress: mechanism {m!r} is not available (available: {', '.join(available)})")

    make_backend = BackendMaker(project, accounts, chain)

    runs = [(s, m) for s in scenarios for m in mechs]
    total = sum(max(s.weight, 0.05) for s, _ in runs)
    results = []
    with click.progressbar(length=1000, label="stress", show_eta=True, show_percent=True,
                           item_show_func=lambda x: x) as bar:
        done = 0.0

        for s, m in runs:
            share = max(s.weight, 0.05) / total
            base = done

            def progress(fraction, base=base, share=share):
                target = int(1000 * (base + share * min(fraction, 1.0)))
                if target > bar.pos:
                    bar.update(target - bar.pos, f"{s.name} x {m}")

            ctx = Context(make_backend=make_backend, params=params, mechanism=m, data=data, quick=quick,
                          progress=progress)
            snap = chain.snapshot() if s.backend == "ape" and not s.needs else None
            try:
                results.append(s.run(ctx))
            finally:
                if snap is not None:
                    chain.restore(snap)
                make_backend.close()
            done += share
            progress(0.0, base=done, share=0)
    seconds = time.perf_counter() - t0
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out) / stamp
    meta = {"generated": stamp, "total_seconds": seconds, "params": str(Path(params_file)),
            "data": str(market_data.data_dir(data)), "mechanisms": list(mechs),
            "machine": f"{platform.machine()} {platform.system()}, {__import__('os').cpu_count()} cores"}
    write_report(results, folder, meta, CATALOG)
    click.echo("")
    click.echo(summary_table(results))
    failed = [r for r in results if r.passed is False]
    click.echo(f"\n{len(results)} runs ({sum(r.passed is True for r in results)} passed, {len(failed)} failed, "
               f"{sum(r.skipped is not None for r in results)} skipped) in {seconds:.1f} s")
    try:
        shown = folder.relative_to(ROOT)
    except ValueError:
        shown = folder
    click.echo(f"wrote {shown}/report.md, summary.json and charts")
    if failed:
        click.echo("FAILED: " + ", ".join(f"{r.scenario} x {r.mechanism}" for r in failed), err=True)
        sys.exit(1)
