"""report.md + summary.json + charts, and the console summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

from dsi.report.charts import run_chart

HOW_TO_READ = """\
## How to read this report

- Every **scenario** is a named stress (a real crisis, an attack or a random crash) with **pass
  criteria**: named checks, each with the value measured and how it was measured. A scenario
  passes when all its checks pass; `make stress` exits non-zero when any run fails.
- Every scenario runs once per **liquidation mechanism**: `dutch` (Dutch auction), `fixed`
  (fixed penalty), `dynamic` (dynamic fee), each with the insurance fund and the keeper agent
  (liquidates when it pays after gas at the parameter file's gas price), and `none`: nobody
  liquidates, so the *deficit* columns show what is at stake, not a loss that happened (the
  baseline). A scenario that has nothing to measure without a mechanism is listed as skipped
  under `none`, with the reason.
- **deficit** = sum over accounts of the negative part of their net liquidation value at the
  *market* price (collateral without haircut plus the signed marks of their options on the
  skew). **bad debt** = what the engine has recorded (at settlement). **adequacy** = haircut
  collateral / short notional at the oracle price. **health** = equity / maintenance margin
  (below 1: liquidatable). **slippage** = price impact of selling the book's delta (the flow a
  liquidation would sell) or a 100-WETH clip into the pool. **latency** = age of the data behind
  the oracle price. **bad debt** (with a mechanism) = what the insurance fund recorded: covered
  (it paid takers of insolvent accounts or settlement pools) + socialised (left unfunded in a
  series' settlement pool, borne pro rata by its holders), plus settlement shortfalls not yet
  resolved. **fund drawdown** = the fund's largest fall below its starting capital.
  **liquidations** = takes by the keeper; **keeper PnL** is net of its gas.
- Each run has one chart: the price path (market vs the protocol's oracle), the distribution of
  account health at the start and at the worst (or last) step, the deficit / bad debt /
  socialised loss path, and the insurance fund's balance.
- The report ends with the **frontier**: capital each margin mode requires for the same
  position against the bad debt and fund drawdown it produced on the real crash replays, per
  mechanism.
- *backend* says where it ran: `ape` is the real anvil node through Ape; `revm` is the
  in-process EVM (same bytecode) used for long replays and Monte Carlo.
"""


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isinf(v) or math.isnan(v):
            return str(v)
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:,.2f}"
        return f"{v:.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def verdict(r) -> str:
    return "SKIPPED" if r.skipped else ("PASS" if r.passed else "FAIL")


def summary_rows(results) -> list[dict]:
    rows = []
    for r in results:
        m = r.metrics
        deficit = m.get("max_deficit_usd", m.get("worst_deficit_max"))
        rows.append({"scenario": r.scenario, "mechanism": r.mechanism, "backend": r.backend or "-",
                     "verdict": verdict(r), "checks": f"{sum(c.passed for c in r.checks)}/{len(r.checks)}",
                     "max deficit USD": _fmt(deficit), "bad debt USD": _fmt(m.get("bad_debt_usd")),
                     "fund drawdown USD": _fmt(m.get("fund_drawdown_usd")),
                     "socialised USD": _fmt(m.get("socialised_loss_usd")),
                     "liquidations": _fmt(m.get("liquidations")),
                     "attacker PnL USD": _fmt(m.get("attacker_pnl_usd")),
                     "seconds": f"{r.seconds:.1f}" if not r.skipped else "-",
                     "note": r.skipped or ""})
    return rows


def summary_table(results) -> str:
    rows = summary_rows(results)
    cols = ["scenario", "mechanism", "backend", "verdict", "checks", "max deficit USD", "bad debt USD",
            "fund drawdown USD", "socialised USD", "liquidations", "attacker PnL USD", "seconds"]
    out = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for row in rows:
        out.append("| " + " | ".join(str(row[c]) for c in cols) + " |")
    return "\n".join(out)


STEP_COLS = ("step", "market", "oracle", "status", "latency_s", "adequacy", "slippage_delta", "slippage_100",
             "below_mm", "insolvent", "deficit_usd", "bad_debt_usd", "fund_balance_usd", "socialised_loss_usd",
             "liquidations", "keeper_pnl_usd", "attacker_pnl_usd", "gas_used")


def _steps_table(steps, limit: int = 14) -> list[str]:
    if not steps:
        return []
    cols = [c for c in STEP_COLS if c in steps[0]]
    if len(steps) > limit:
        worst = max(range(len(steps)), key=lambda i: (steps[i].get("deficit_usd", 0), steps[i].get("below_mm", 0)))
        keep = sorted({0, 1, 2, worst - 1, worst, worst + 1, len(steps) - 2, len(steps) - 1} & set(range(len(steps))))
        shown = [(i, steps[i]) for i in keep]
        title = f"Steps (first, worst and last of {len(steps)}):"
    else:
        shown = list(enumerate(steps))
        title = "Steps:"
    out = [title, "", "| " + " | ".join(["#"] + cols) + " |", "|" + " ---: |" * (len(cols) + 1)]
    for i, s in shown:
        out.append("| " + " | ".join([str(i)] + [_fmt(s.get(c)) for c in cols]) + " |")
    return out + [""]


def _section(r, scenario, chart) -> str:
    out = [f"## {r.scenario} x {r.mechanism}: {verdict(r)}", "", scenario.description, ""]
    if r.skipped:
        return "\n".join(out + [f"Skipped: {r.skipped}.", ""])
    out += [f"Backend: `{r.backend}`, {r.seconds:.1f} s.", "", "Criteria:", ""]
    for c in r.checks:
        out.append(f"- [{'x' if c.passed else ' '}] **{c.name}**: {_fmt(c.value)} ({c.detail})")
    out += ["", "Metrics:", "", "| metric | value |", "| --- | ---: |"]
    for k, v in r.metrics.items():
        out.append(f"| {k} | {_fmt(v)} |")
    out.append("")
    if chart:
        out += [f"![{r.scenario} x {r.mechanism}]({chart})", ""]
    if r.notes:
        out += ["Notes:", ""] + [f"- {n}" for n in r.notes] + [""]
    out += _steps_table(r.steps)
    return "\n".join(out)


FRONTIER_MODES = ("full collateral", "isolated", "cross", "portfolio")


def frontier(results) -> dict | None:
    """The closing table: per margin mode, the capital the frontier position needs (initial
    margin at the start, USD, averaged over the replays) against the bad debt and the fund's
    payments it produced, summed over the real crash replays, per liquidation mechanism."""
    runs = [r for r in results if not r.skipped and "frontier" in r.metrics]
    if not runs:
        return None
    mechs = list(dict.fromkeys(r.mechanism for r in runs))
    replays = sorted({r.scenario for r in runs})
    out = {"replays": replays, "mechanisms": mechs, "rows": []}
    for mode in FRONTIER_MODES:
        row = {"mode": mode, "capital_share": 0.0, "by_mechanism": {}}
        shares = []
        for m in mechs:
            bad = fund = 0.0
            for r in runs:
                if r.mechanism != m:
                    continue
                full = r.metrics["frontier_full_collateral_usd"]
                if mode == "full collateral":
                    shares.append(1.0)
                    continue
                f = r.metrics["frontier"][mode]
                shares.append(f["capital_usd"] / full)
                bad += f["bad_debt_usd"]
                fund += f["fund_drawdown_usd"]
            row["by_mechanism"][m] = {"bad_debt_usd": bad, "fund_drawdown_usd": fund if m != "none" else None}
        row["capital_share"] = sum(shares) / len(shares) if shares else 0.0
        out["rows"].append(row)
    return out


def frontier_table(f: dict) -> str:
    cols = ["margin mode", "capital required (x full collateral)"] + [f"{m}: bad debt / fund paid (USD)"
                                                                    for m in f["mechanisms"]]
    lines = ["| " + " | ".join(cols) + " |", "| --- |" + " ---: |" * (len(cols) - 1)]
    for row in f["rows"]:
        cells = [row["mode"], f"{row['capital_share']:.1%}"]
        for m in f["mechanisms"]:
            x = row["by_mechanism"][m]
            cells.append(f"{_fmt(x['bad_debt_usd'])} / {_fmt(x['fund_drawdown_usd'])}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


FRONTIER_HOW = """\
The same position in every mode (short 10 puts at 0.9 x spot and 10 at 0.8 x, short 10 calls at
1.1 x; 30-day expiry, funded at 1.25 x its initial margin) rides every real crash replay.
**capital required** is what the mode asks to open it (initial margin), as a share of what the
fully collateralised vault locks for it (the worst payoff), averaged over the replays;
**bad debt** is the loss beyond the position's collateral, summed over the replays (covered by
the fund on insolvent takes, plus what was still negative at the end); **fund paid** is what the
insurance fund paid for those accounts. Full collateral never has bad debt by construction.
Under `none` nobody liquidates: the bad debt column is what was at stake.
"""


def _jsonable(v):
    if isinstance(v, float) and (math.isinf(v) or math.isnan(v)):
        return str(v)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def write_report(results, folder, meta: dict, catalog: dict, chart_map=map) -> Path:
    """report.md, summary.json and one PNG per run in `folder`. `chart_map(fn, *iterables)`
    renders the charts (`map`, or an executor's `map` to draw them in parallel)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    failed = [r for r in results if r.passed is False]
    md = ["# DSI stress report", ""]
    md += [f"- generated: {meta.get('generated')}", f"- verdict: **{'FAIL' if failed else 'PASS'}** "
           f"({sum(r.passed is True for r in results)} passed, {len(failed)} failed, "
           f"{sum(r.skipped is not None for r in results)} skipped)",
           f"- total time: {meta.get('total_seconds', 0):.1f} s on {meta.get('machine', 'this machine')}",
           f"- parameters: `{meta.get('params')}`; market data: `{meta.get('data')}`; "
           f"mechanisms: {', '.join(meta.get('mechanisms', []))}", ""]
    att = meta.get("attestation")
    if att:
        md += ["## Digest and attestation", "",
               "The report digest is a SHA-256 of the header (code, parameters, parameter-set digest, data, "
               "seed, scenario set) and every run's outcome without wall-clock fields (`dsi.attest`): the "
               "same code, parameters, data and seed give the same digest. `ape run stress --verify UID` "
               "re-runs an attested report and compares.", "",
               "| field | value |", "| --- | --- |"]
        md += [f"| {k} | `{v}` |" for k, v in att.items()]
        md.append("")
    md.append(HOW_TO_READ)
    md += ["## Summary", "", summary_table(results), ""]
    charts = [f"{r.scenario}__{r.mechanism}.png" if not r.skipped and r.series else None for r in results]
    drawn = [(r, folder / c) for r, c in zip(results, charts) if c]
    list(chart_map(run_chart, [r for r, _ in drawn], [path for _, path in drawn]))
    for r, chart in zip(results, charts):
        md.append(_section(r, catalog[r.scenario], chart))
    f = frontier(results)
    if f is not None:
        md += ["## The frontier: capital required vs bad debt and fund drawdown on the real crashes", "",
               FRONTIER_HOW, f"Replays: {', '.join(f['replays'])}.", "", frontier_table(f), ""]
    (folder / "report.md").write_text("\n".join(md) + "\n")
    summary = {
        "generated": meta.get("generated"), "total_seconds": meta.get("total_seconds"),
        "passed": not failed, "params": meta.get("params"), "mechanisms": meta.get("mechanisms"),
        "runs": [{"scenario": r.scenario, "mechanism": r.mechanism, "passed": r.passed, "skipped": r.skipped,
                  "backend": r.backend, "seconds": round(r.seconds, 2),
                  "checks": [{"name": c.name, "passed": c.passed, "value": _jsonable(c.value), "detail": c.detail}
                             for c in r.checks],
                  "metrics": _jsonable(r.metrics)} for r in results],
        "frontier": _jsonable(f),
        "attestation": att,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return folder
