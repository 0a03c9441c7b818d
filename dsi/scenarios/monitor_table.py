"""The stress monitor on and off, same runs (issue 15 §2): every real crash replay, Black
Thursday, the crash-calibrated Monte Carlo and a calm Monte Carlo (the diffusion alone), under
every liquidation mechanism, each run twice on the in-process chain with the same seed and data:
governed without the monitor ("off") and governed with it, poked by the keeper every block
("on"). The two runs differ only by the monitor.

Per run: bad debt (USD), the insurance fund's drawdown (USD), liquidations, the book's capital
required (its initial margin at the start, and averaged over the run), the stress level reached
and the share of measured steps spent above level 0. The goal the issue states: bad debt and
fund drawdown no higher with the monitor on every crash, and the capital required in the calm
run unchanged (within 1%).

`python -m dsi.scenarios.monitor_table [--quick] [--jobs N] [--out reports/monitor.json]` (also
`make monitor-table`) writes the JSON and prints the markdown table docs/governance.md quotes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

CASES = (  # (label, catalog scenario, module, kwargs)
    *[(name, name, "replay", None) for name in ("replay_2020_03_12", "replay_2021_05_19", "replay_2022_11_08",
                                                 "replay_2024_08_05", "replay_2025_10_10")],
    ("black_thursday", "black_thursday", "black_thursday", None),
    ("monte_carlo", "monte_carlo", "monte_carlo", None),
    ("monte_carlo_calm", "monte_carlo", "monte_carlo", {"jumps": False}),
)
CRASHES = tuple(c[0] for c in CASES if c[0] != "monte_carlo_calm")
MECHANISMS = ("dutch", "fixed", "dynamic")
KEYS = ("bad_debt_usd", "fund_drawdown_usd", "socialised_loss_usd", "liquidations", "capital_usd",
        "mean_initial_usd", "max_stress_level", "stressed_share")


def _summary(result) -> dict:
    m = result.metrics
    steps = result.steps
    out = {k: m.get(k) for k in KEYS}
    if steps and "initial_usd" in steps[0]:
        out["capital_usd"] = steps[0]["initial_usd"]
        if out["mean_initial_usd"] is None:
            out["mean_initial_usd"] = sum(s["initial_usd"] for s in steps) / len(steps)
        levels = [s.get("stress_level") or 0 for s in steps]
        if out["max_stress_level"] is None:
            out["max_stress_level"] = max(levels)
            out["stressed_share"] = sum(lv > 0 for lv in levels) / len(levels)
    out["passed"] = result.passed
    return out


def run_one(label: str, scenario: str, module: str, kwargs, mechanism: str, governance: str, data: str,
            quick: bool, params_file: str | None = None) -> dict:
    """One run on the in-process chain: the summary row."""
    import importlib

    from dsi.protocol import Params
    from dsi.scenarios import BackendMaker, Context, get

    params = Params.from_file(params_file) if params_file else Params()
    ctx = Context(make_backend=BackendMaker(None, None, None), params=params, mechanism=mechanism, data=data,
                  quick=quick, governance=governance)
    s = get(scenario)
    t0 = time.perf_counter()
    mod = importlib.import_module(f"dsi.scenarios.{module}")
    result = mod.run(ctx, name=label, backend_kind="revm", **{**s.kwargs, **(kwargs or {})})
    row = _summary(result)
    row.update(case=label, mechanism=mechanism, monitor=governance, seconds=time.perf_counter() - t0)
    return row


def run_table(data: str = "../shared/data", quick: bool = False, jobs: int = 2, cases=CASES, mechanisms=MECHANISMS,
              progress=print) -> list[dict]:
    runs = [(c, m, g) for c in cases for m in mechanisms for g in ("off", "on")]
    rows = []
    if jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futs = {pool.submit(run_one, *c, m, g, data, quick): (c[0], m, g) for c, m, g in runs}
            for fut in as_completed(futs):
                rows.append(fut.result())
                progress(f"  {futs[fut][0]} x {futs[fut][1]} monitor {futs[fut][2]}: {rows[-1]['seconds']:.1f} s")
    else:
        for c, m, g in runs:
            rows.append(run_one(*c, m, g, data, quick))
            progress(f"  {c[0]} x {m} monitor {g}: {rows[-1]['seconds']:.1f} s")
    order = {(c[0], m, g): i for i, (c, m, g) in enumerate(runs)}
    return sorted(rows, key=lambda r: order[(r["case"], r["mechanism"], r["monitor"])])


def pairs(rows: list[dict]) -> list[tuple[dict, dict]]:
    by = {(r["case"], r["mechanism"], r["monitor"]): r for r in rows}
    return [(by[(c, m, "off")], by[(c, m, "on")]) for (c, m, g) in by if g == "off" and (c, m, "on") in by]


def verdicts(rows: list[dict]) -> dict:
    """The issue's goals over the table: crashes where bad debt or drawdown rose with the monitor
    on, and the calm run's capital change."""
    worse, better, calm = [], [], []
    for off, on in pairs(rows):
        if off["case"] == "monte_carlo_calm":
            calm.append(on["mean_initial_usd"] / off["mean_initial_usd"] - 1 if off["mean_initial_usd"] else 0.0)
            continue
        for k in ("bad_debt_usd", "fund_drawdown_usd"):
            a, b = off[k] or 0.0, on[k] or 0.0
            if b > a + 0.005:
                worse.append(f"{off['case']} x {off['mechanism']}: {k} {a:,.2f} -> {b:,.2f}")
            elif b < a - 0.005:
                better.append(f"{off['case']} x {off['mechanism']}: {k}")
    return {"worse": worse, "better": better, "calm_capital_change": max(calm, key=abs, default=None)}


def markdown(rows: list[dict]) -> str:
    lines = ["| case | mechanism | bad debt off | bad debt on | fund drawdown off | fund drawdown on | "
             "liquidations off / on | capital at start off / on | mean capital off / on | top level | "
             "time stressed |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]

    def usd(x):
        return "-" if x is None else f"{x:,.0f}"

    for off, on in pairs(rows):
        lines.append(
            f"| {off['case']} | {off['mechanism']} | {usd(off['bad_debt_usd'])} | {usd(on['bad_debt_usd'])} | "
            f"{usd(off['fund_drawdown_usd'])} | {usd(on['fund_drawdown_usd'])} | "
            f"{off['liquidations']} / {on['liquidations']} | {usd(off['capital_usd'])} / {usd(on['capital_usd'])} | "
            f"{usd(off['mean_initial_usd'])} / {usd(on['mean_initial_usd'])} | {on['max_stress_level']} | "
            f"{(on['stressed_share'] or 0):.0%} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dsi.scenarios.monitor_table", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--quick", action="store_true", help="shortened runs (as the tests run them)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="reports/monitor.json")
    ap.add_argument("--case", action="append", help="only these cases (repeatable)")
    ap.add_argument("--mechanism", action="append", help="only these mechanisms (repeatable)")
    a = ap.parse_args(argv)
    cases = [c for c in CASES if not a.case or c[0] in a.case]
    t0 = time.perf_counter()
    rows = run_table(a.data, a.quick, a.jobs, cases, tuple(a.mechanism or MECHANISMS))
    v = verdicts(rows)
    out = {"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": a.quick,
           "seconds": time.perf_counter() - t0, "rows": rows, "verdicts": v}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1, default=float) + "\n")
    print(markdown(rows))
    print(f"\nworse with the monitor on: {v['worse'] or 'none'}")
    print(f"lower with it on: {len(v['better'])} (case x mechanism x metric)")
    print(f"calm capital change: {v['calm_capital_change']}")
    print(f"{len(rows)} runs in {out['seconds']:.0f} s; wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
