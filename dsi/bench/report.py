"""The shared gas/accuracy report: `reports/gas.json`, one row per measured routine.

Later issues add their rows through `write_rows`, which replaces rows of the same name
and keeps the others, so figures can be tracked from commit to commit.
"""

from __future__ import annotations

import json
from pathlib import Path

from dsi.boa_env import ROOT

REPORT = ROOT / "reports" / "gas.json"
FIELDS = ("name", "gas_median", "gas_max", "max_abs_err", "max_rel_err")


def calldata_gas(data: bytes) -> int:
    return sum(16 if b else 4 for b in data)


def exec_gas_view(contract, method, *args, sender) -> int:
    """Execution gas of a view on a node: eth_estimateGas minus the 21,000 base and calldata."""
    data = getattr(contract, method).encode_input(*args)
    est = getattr(contract, method).estimate_gas_cost(*args, sender=sender)
    return est - 21_000 - calldata_gas(bytes(data))


def exec_gas_tx(receipt) -> int:
    """Execution gas of a mined transaction: gas_used minus the 21,000 base and calldata."""
    return receipt.gas_used - 21_000 - calldata_gas(bytes(receipt.transaction.data))


def node_row(name, gas):
    """A single-measurement row (no error columns) for a figure read off a node."""
    return {"name": name, "gas_median": gas, "gas_max": gas, "max_abs_err": None, "max_rel_err": None, "points": 1}


def write_rows(rows: list[dict], path: Path = REPORT) -> Path:
    existing = {}
    if path.exists():
        existing = {r["name"]: r for r in json.loads(path.read_text()).get("rows", [])}
    for row in rows:
        existing[row["name"]] = row
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rows": list(existing.values())}, indent=2) + "\n")
    return path


def format_table(rows: list[dict]) -> str:
    head = f"| {'name':<28} | {'gas median':>10} | {'gas max':>8} | {'max abs err':>11} | {'max rel err':>11} | {'points':>6} |"
    sep = "|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|"
    lines = [head, sep]
    for r in rows:
        def fmt(v):
            return f"{v:.2e}" if isinstance(v, float) else ("-" if v is None else str(v))
        lines.append(
            f"| {r['name']:<28} | {r['gas_median']:>10} | {r['gas_max']:>8} | {fmt(r['max_abs_err']):>11} "
            f"| {fmt(r['max_rel_err']):>11} | {r.get('points', '-'):>6} |"
        )
    return "\n".join(lines)
