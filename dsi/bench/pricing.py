"""Gas and accuracy of the on-chain pricing library against the scipy reference.

Runs on the in-process EVM (titanoboa): >= 10,000 random points per routine is far too many
calls for an RPC node. Gas is what the routine itself uses (the probe contract reads
`msg.gas` around the internal call), so it excludes call and calldata overhead; the EVM's
gas schedule is the same in-process and on anvil.

Error conventions (the targets in docs/benchmarks.md use the same):
- prices: absolute error as a fraction of spot; relative error over points whose reference
  price is >= 1e-8 x spot;
- normal CDF/PDF: absolute error in probability; relative error where the value >= 1e-10;
- greeks: delta absolute; gamma, vega, theta relative where |value| is not ~0;
- implied vol: relative error of the round trip vol -> price -> vol, over points where the
  price carries the vol (vega x 1e-9 >= 1 wei of price, i.e. the inverse is well posed);
- SVI vol: relative error against the float formula.
"""

from __future__ import annotations

import math
import multiprocessing
from statistics import median

import numpy as np

from dsi.boa_env import deploy
from dsi.reference import pricing as ref

WAD = 10**18
YEAR = ref.YEAR


def _domain(rng: np.random.Generator, n: int):
    """Random points over the issue's test domain (log-uniform where scale-free)."""
    spot = np.exp(rng.uniform(math.log(100), math.log(100_000), n))
    moneyness = np.exp(rng.uniform(math.log(0.2), math.log(5), n))
    tte = np.exp(rng.uniform(math.log(3600), math.log(2 * YEAR), n)).astype(int)
    vol = np.exp(rng.uniform(math.log(0.01), math.log(5.0), n))
    rate = rng.uniform(-0.05, 0.20, n)
    is_call = rng.integers(0, 2, n).astype(bool)
    for i in range(n):
        s_w = int(spot[i] * WAD)
        k_w = int(spot[i] * moneyness[i] * WAD)
        v_w = int(vol[i] * WAD)
        r_w = int(rate[i] * WAD)
        # The reference sees the exact on-chain inputs, not the float draws.
        yield (s_w, k_w, int(tte[i]), v_w, r_w, bool(is_call[i])), (
            s_w / WAD, k_w / WAD, int(tte[i]) / YEAR, v_w / WAD, r_w / WAD, bool(is_call[i]))


def _row(name, gas, abs_errs, rel_errs, points):
    return {
        "name": name,
        "gas_median": int(median(gas)),
        "gas_max": int(max(gas)),
        "max_abs_err": float(max(abs_errs)) if abs_errs else None,
        "max_rel_err": float(max(rel_errs)) if rel_errs else None,
        "points": points,
    }


def _sweep(args: tuple[int, int]) -> dict[str, list]:
    """One worker's share: raw gas and error lists per routine."""
    n, seed = args
    rng = np.random.default_rng(seed)
    probe = deploy("bench/PricingGasProbe.vy")
    out: dict[str, list] = {k: [] for k in (
        "gas_cdf", "abs_cdf", "rel_cdf", "gas_pdf", "abs_pdf", "rel_pdf", "gas_call", "gas_put", "abs_price",
        "rel_price", "gas_greeks", "abs_delta", "rel_gvt", "gas_iv", "rel_iv", "gas_svi", "rel_svi")}

    # Normal CDF and PDF: uniform over [-38, 38] plus dense tails.
    xs = np.concatenate([rng.uniform(-38, 38, n // 2), rng.uniform(-9, 9, n - n // 2)])
    for x in xs:
        xw = int(x * WAD)
        xf = xw / WAD
        for kind, fn, reff in (("cdf", probe.norm_cdf, ref.norm_cdf), ("pdf", probe.norm_pdf, ref.norm_pdf)):
            v, g = fn(xw)
            r = float(reff(xf))
            out[f"gas_{kind}"].append(g)
            out[f"abs_{kind}"].append(abs(v / 1e36 - r))
            if r >= 1e-10:
                out[f"rel_{kind}"].append(abs(v / 1e36 - r) / r)

    # Prices, greeks and the implied-vol round trip.
    for onchain, (s, k, t, v, r, c) in _domain(rng, n):
        price, g = probe.price(*onchain)
        out["gas_call" if c else "gas_put"].append(g)
        rp = ref.price(s, k, t, v, r, c)
        err = abs(price / WAD - rp)
        out["abs_price"].append(err / s)
        if rp >= 1e-8 * s:
            out["rel_price"].append(err / rp)
        delta, gamma, vega, theta, g = probe.greeks(*onchain)
        out["gas_greeks"].append(g)
        rg = ref.greeks(s, k, t, v, r, c)
        out["abs_delta"].append(abs(delta / WAD - rg["delta"]))
        for got, want, floor in ((gamma, rg["gamma"], 1e-9), (vega, rg["vega"], 1e-9 * s),
                                 (theta, rg["theta"], 1e-9 * s)):
            if abs(want) > floor:
                out["rel_gvt"].append(abs(got / WAD - want) / abs(want))
        # Well posed: one wei of price moves the vol by < 1e-9 of itself.
        if rg["vega"] * WAD * 1e-9 * v >= 1.0 and price >= 1e-6 * onchain[0]:
            try:
                iv, g = probe.implied_vol(price, onchain[0], onchain[1], onchain[2], onchain[4], c)
            except Exception:  # noqa: BLE001 - out-of-band prices revert by design
                continue
            out["gas_iv"].append(g)
            out["rel_iv"].append(abs(iv - onchain[3]) / onchain[3])

    # SVI slices.
    while len(out["gas_svi"]) < n:
        a, b = rng.uniform(-0.05, 0.2), rng.uniform(0, 1)
        rho, m, sig = rng.uniform(-0.95, 0.95), rng.uniform(-0.5, 0.5), rng.uniform(0.01, 1)
        params = [int(p * WAD) for p in (a, b, rho, m, sig)]
        pf = [p / WAD for p in params]
        if not ref.svi_valid(*pf):
            continue
        k = int(rng.uniform(-2, 2) * WAD)
        tte = int(rng.uniform(86400, 2 * YEAR))
        w = ref.svi_total_variance(k / WAD, *pf)
        if w <= 1e-12:
            continue
        vol, g = probe.svi_vol(k, tte, *params)
        want = math.sqrt(w / (tte / YEAR))
        out["gas_svi"].append(g)
        out["rel_svi"].append(abs(vol / WAD - want) / want)
    return out


def measure(n: int = 10_000, seed: int = 20261123, workers: int = 2) -> list[dict]:
    """Sweep n points per routine, split over `workers` processes (py-evm is single-threaded)."""
    shares = [(n // workers + (1 if i < n % workers else 0), seed + i) for i in range(workers)]
    if workers == 1:
        parts = [_sweep(shares[0])]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_sweep, shares)
    d = {k: [x for p in parts for x in p[k]] for k in parts[0]}
    price_note = "abs err as a fraction of spot; rel err where price >= 1e-8 spot (calls and puts pooled)"
    rows = [
        _row("normal.cdf", d["gas_cdf"], d["abs_cdf"], d["rel_cdf"], len(d["gas_cdf"])),
        _row("normal.pdf", d["gas_pdf"], d["abs_pdf"], d["rel_pdf"], len(d["gas_pdf"])),
        _row("black76.price (call)", d["gas_call"], d["abs_price"], d["rel_price"], len(d["gas_call"])) | {"note": price_note},
        _row("black76.price (put)", d["gas_put"], d["abs_price"], d["rel_price"], len(d["gas_put"])) | {"note": price_note},
        _row("black76.greeks", d["gas_greeks"], d["abs_delta"], d["rel_gvt"], len(d["gas_greeks"]))
        | {"note": "abs err = delta; rel err = worst of gamma (where >= 1e-9/USD, i.e. 1e9 wei), vega, theta"},
        _row("black76.implied_vol", d["gas_iv"], [], d["rel_iv"], len(d["gas_iv"]))
        | {"note": "rel err of the vol round trip where the inverse is well posed"},
        _row("svi.vol", d["gas_svi"], [], d["rel_svi"], len(d["gas_svi"])),
    ]
    return rows
