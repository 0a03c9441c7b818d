"""Monte Carlo: Merton jump-diffusion paths against the standard book, in process (revm).

Model (per path, one day of 15-minute steps, log price):
    d ln S = (mu - sigma^2 / 2 - lambda k) dt + sigma dW + J dN,   J ~ Normal(mu_J, sigma_J),
    N Poisson with intensity lambda per year, k = E[e^J] - 1 (no drift from the jumps).
Parameters (`MertonParams`), documented and crash-calibrated:
- sigma: diffusion vol, 0.80 a year (ETH's long-run realised vol is ~0.7-0.8);
- lambda, mu_J, sigma_J: calibrated on the real crash files (`calibrate_jumps`): a 5-minute
  log return is a jump when it exceeds 5 robust standard deviations (1.4826 x median absolute
  deviation) of its window; lambda is their count per year of crash-window data, mu_J and sigma_J
  their mean and standard deviation. Calibrating on crash windows only is deliberate: it is a
  stress calibration (jumps are ~100x more frequent than in calm markets), documented as such.
- mu = 0 (no drift over a day).
Each path starts from the same snapshot (book built once), so paths differ only by the shocks.
Metrics sampled every hour and at the end; reported: the distribution of the end-of-path deficit
and of the worst deficit along each path (p50/p95/p99/max), accounts below maintenance, and under
a liquidation mechanism (the keeper acting every step; its memory reset with each path) the
distributions of bad debt and insurance-fund drawdown per path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dsi import data
from dsi.metrics import quantiles, warned_before_loss
from dsi.scenarios import REPLAYS, Result
from dsi.scenarios.world import build_world, drive, open_probe

STEP_S = 900  # 15-minute steps: one day is 96 blocks
YEAR_S = 365 * 86_400


@dataclass(frozen=True)
class MertonParams:
    sigma: float = 0.80
    lam: float = 0.0  # jumps per year
    mu_j: float = 0.0
    sigma_j: float = 0.0
    mu: float = 0.0

    @property
    def k(self) -> float:
        return math.exp(self.mu_j + 0.5 * self.sigma_j**2) - 1


def calibrate_jumps(folder: str | None = None, threshold: float = 5.0) -> MertonParams:
    """Jump intensity and size from every replay window's 5-minute log returns."""
    jumps, seconds = [], 0
    for file, start, end, _ in REPLAYS.values():
        bars = data.load_bars(file, start, end, folder=folder)
        closes = np.array([c for _, c in bars])
        r = np.diff(np.log(closes))
        scale = 1.4826 * np.median(np.abs(r - np.median(r)))
        jumps.extend(r[np.abs(r) > threshold * scale].tolist())
        seconds += (bars[-1][0] - bars[0][0])
    years = seconds / YEAR_S
    return MertonParams(lam=len(jumps) / years, mu_j=float(np.mean(jumps)) if jumps else 0.0,
                        sigma_j=float(np.std(jumps)) if jumps else 0.0)


def paths(m: MertonParams, s0: float, steps: int, n: int, seed: int) -> np.ndarray:
    """n x (steps + 1) prices, `STEP_S` apart."""
    rng = np.random.default_rng(seed)
    dt = STEP_S / YEAR_S
    drift = (m.mu - 0.5 * m.sigma**2 - m.lam * m.k) * dt
    diffusion = m.sigma * math.sqrt(dt) * rng.standard_normal((n, steps))
    counts = rng.poisson(m.lam * dt, (n, steps))
    jumps = m.mu_j * counts + m.sigma_j * np.sqrt(counts) * rng.standard_normal((n, steps))
    log = np.cumsum(drift + diffusion + jumps, axis=1)
    return s0 * np.exp(np.hstack([np.zeros((n, 1)), log]))


def run(ctx, name: str, backend_kind: str, n_paths: int = 16, steps: int = 96, jumps: bool = True) -> Result:
    """`jumps=False`: the diffusion alone (a calm market at 80% vol), the lab's calm baseline."""
    if ctx.quick:
        n_paths, steps = 4, 24
    m = calibrate_jumps(ctx.data) if jumps else MertonParams()
    s0 = ctx.params.spot
    prices = paths(m, s0, steps, n_paths, ctx.seed)
    backend = ctx.make_backend(backend_kind)
    world = build_world(backend, ctx.params, ctx.mechanism, governance=ctx.governance)
    open_probe(world)
    chain = backend.chain
    start = chain.snapshot()
    ends, worsts, misses, bad_probes, below, all_steps = [], [], 0, 0, [], []
    bad_debts, fund_drawdowns, socialised, takes = [], [], [], []
    gas0 = chain.gas_used()
    for i in range(n_paths):
        chain.restore(start)
        start = chain.snapshot()  # a checkpoint is consumed by restore on some backends
        world.keeper.reset()
        world.market = s0
        out = drive(world, list(prices[i, 1:]), STEP_S, measure_every=4)
        st = out["steps"]
        ends.append(st[-1]["deficit_usd"])
        worsts.append(max(s["deficit_usd"] for s in st))
        below.append(max(s["below_mm"] for s in st))
        bad_debts.append(st[-1]["bad_debt_usd"])
        funds = [s["fund_balance_usd"] for s in st if s["fund_balance_usd"] is not None]
        fund_drawdowns.append((ctx.params.fund_capital - min(funds)) if funds else 0.0)
        socialised.append(st[-1]["socialised_loss_usd"] or 0.0)
        takes.append(world.keeper.liquidations)
        misses += warned_before_loss(st)[1]
        bad_probes += sum(ok and status != "FRESH" for ok, status in out["probes"])
        all_steps.append(st)
        if ctx.progress:
            ctx.progress((i + 1) / n_paths)
    r = Result(name, ctx.mechanism, backend.name, steps=all_steps[int(np.argmax(worsts))])
    r.check("every account that went insolvent was below maintenance first, on every path", misses == 0, misses,
            f"{misses} account-path(s) insolvent without a prior warning, {n_paths} paths")
    r.check("a risk-increasing action is accepted only when the oracle is FRESH", bad_probes == 0, bad_probes,
            f"{bad_probes} probe writes accepted on a non-FRESH oracle over {n_paths * steps} steps")
    q_end, q_worst = quantiles(ends), quantiles(worsts)
    r.metrics = {
        "paths": n_paths, "steps_per_path": steps, "sigma": m.sigma, "jumps_per_year": m.lam,
        "jump_mean": m.mu_j, "jump_std": m.sigma_j,
        "min_path_low": float(prices.min(axis=1).min() / s0), "p5_path_low": float(np.quantile(prices.min(axis=1) / s0, 0.05)),
        **{f"end_deficit_{k}": v for k, v in q_end.items()}, **{f"worst_deficit_{k}": v for k, v in q_worst.items()},
        "paths_with_deficit": sum(w > 0 for w in worsts), "max_below_mm": max(below),
        **{f"bad_debt_{k}": v for k, v in quantiles(bad_debts).items()},
        **{f"fund_drawdown_{k}": v for k, v in quantiles(fund_drawdowns).items()},
        "bad_debt_usd": max(bad_debts), "fund_drawdown_usd": max(fund_drawdowns) if ctx.mechanism != "none" else None,
        "socialised_loss_usd": max(socialised) if ctx.mechanism != "none" else None,
        "liquidations": sum(takes), "paths_with_bad_debt": sum(b > 0 for b in bad_debts),
        "fund_balance_usd": None, "attacker_pnl_usd": None,
        "gas_used": chain.gas_used() - gas0,
        "mean_initial_usd": float(np.mean([s["initial_usd"] for st in all_steps for s in st])),
        "stressed_share": float(np.mean([(s["stress_level"] or 0) > 0 for st in all_steps for s in st])),
        "max_stress_level": max((s["stress_level"] or 0) for st in all_steps for s in st),
    }
    r.series = {"paths": prices[: min(n_paths, 48)].tolist(), "end_deficits": ends, "worst_deficits": worsts,
                "bad_debts": bad_debts, "fund_drawdowns": fund_drawdowns if ctx.mechanism != "none" else [],
                "t": [s["t"] for s in r.steps], "market": [s["market"] for s in r.steps],
                "oracle": [s["oracle"] for s in r.steps], "deficit": [s["deficit_usd"] for s in r.steps],
                "healths_end": r.steps[-1]["healths"], "healths_start": r.steps[0]["healths"]}
    return r
