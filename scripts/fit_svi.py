"""Fit raw SVI to the 2024-05-24 Deribit ETH chain, print the fit table, write data/svi_eth_2024-05-24.json.

Runs offline, either way:
    ape run fit_svi [--csv PATH] [--out PATH]
    python scripts/fit_svi.py [--csv PATH] [--out PATH]

Method (details in dsi/reference/svi_fit.py): snapshot 2024-05-24 08:15 UTC, T in 365-day years,
forward from put-call parity on the marks, OTM mark iv, plain least squares on total variance,
expiries with fewer than 5 strikes rejected. The WAD parameters pass the on-chain `svi._check`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __name__ == "__main__":  # `python scripts/fit_svi.py` from anywhere: make `dsi` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402

from dsi.reference import svi_fit  # noqa: E402


def format_table(doc: dict) -> str:
    head = (f"{'expiry':<11}{'T(d)':>8}{'forward':>10}{'n':>4}{'a':>11}{'b':>10}{'rho':>9}"
            f"{'m':>9}{'sigma':>9}{'rmse':>7}{'max':>7}")
    lines = [head, "-" * len(head)]
    for e in doc["expiries"]:
        p = e["params"]
        lines.append(
            f"{e['expiry'][:10]:<11}{e['tte_days']:>8.3f}{e['forward']:>10.2f}{e['n_strikes']:>4}"
            f"{p['a']:>11.6f}{p['b']:>10.6f}{p['rho']:>9.4f}{p['m']:>9.4f}{p['sigma']:>9.4f}"
            f"{e['rmse_vol_points']:>7.3f}{e['max_err_vol_points']:>7.3f}"
        )
    return "\n".join(lines)


def run(csv_path: Path | str = svi_fit.CHAIN_CSV, out: Path | str = svi_fit.SURFACE_JSON) -> dict:
    spot, fits, rejected = svi_fit.fit_chain(csv_path)
    doc = svi_fit.surface_document(spot, fits)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")

    print(f"snapshot {doc['snapshot']}  spot (median index) {spot:.2f}")
    print(format_table(doc))
    print("(T in days; a, b, rho, m, sigma raw SVI on total variance; rmse/max in vol points)")
    for expiry, n in rejected:
        print(f"rejected {expiry:%Y-%m-%d}: {n} strikes < {svi_fit.MIN_STRIKES}")
    print(f"wrote {out}")
    return doc


@click.command()
@click.option("--csv", "csv_path", default=str(svi_fit.CHAIN_CSV), show_default=True, help="Deribit chain")
@click.option("--out", default=str(svi_fit.SURFACE_JSON), show_default=True, help="surface JSON to write")
def cli(csv_path, out):
    """Fit raw SVI per expiry and write the surface JSON (offline: no network, no provider)."""
    run(csv_path, out)


if __name__ == "__main__":
    cli()
