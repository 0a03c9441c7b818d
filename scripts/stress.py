"""`ape run stress` (`make stress`): run the stress scenarios and write a report.

Writes stress-reports/<UTC time>/report.md and summary.json and prints the verdict. Runs on the
connected network (default: a local anvil that ape starts and stops).
"""

import json
from datetime import datetime, timezone
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

from dsi.scenarios import black_thursday

ROOT = Path(__file__).resolve().parent.parent


def _markdown(result) -> str:
    out = [f"## {result.name}: {'PASS' if result.passed else 'FAIL'}", "",
           "| step | market | oracle | status | latency s | impact 100 WETH | below MM | insolvent | deficit USD | adequacy |",
           "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for s in result.steps:
        out.append(f"| {s['step']} | {s['market']:,.0f} | {s['oracle']:,.0f} | {s['status']} | {s['latency_s']} | "
                   f"{s['impact_100_weth']:.2%} | {s['below_maintenance']} | {s['insolvent']} | "
                   f"{s['deficit']:,.0f} | {s['adequacy']:.3f} |")
    out += ["", "Accounts after the last gap:", "",
            "| sub | mode | strike | equity | maintenance | health | net value |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for r in result.accounts[-1]:
        out.append(f"| {r['sub']} | {r['mode']} | {r['strike']} | {r['equity']:,.0f} | {r['maintenance']:,.0f} | "
                   f"{r['health']:.3f} | {r['net_value']:,.0f} |")
    out += ["", "Criteria:", ""] + [f"- [{'x' if ok else ' '}] {name} ({detail})" for name, ok, detail in result.criteria]
    return "\n".join(out) + "\n"


@click.command(cls=ConnectedProviderCommand)
@network_option()
def cli(network):
    from ape import accounts, chain, project

    result = black_thursday.run(project, accounts, chain)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = ROOT / "stress-reports" / stamp
    folder.mkdir(parents=True, exist_ok=True)
    md = "# DSI stress report\n\n" + _markdown(result)
    (folder / "report.md").write_text(md)
    (folder / "summary.json").write_text(json.dumps({
        "scenarios": [{"name": result.name, "passed": result.passed, "steps": result.steps,
                       "criteria": [{"name": n, "passed": ok, "detail": d} for n, ok, d in result.criteria]}],
    }, indent=2, default=str) + "\n")
    click.echo(md)
    click.echo(f"wrote {folder.relative_to(ROOT)}/report.md and summary.json")
