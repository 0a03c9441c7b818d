"""Raw-SVI fit of a Deribit option chain, and the fitted surface as VolFeed inputs.

The chain (`eth_options_chain_2024-05-24_deribit.csv`) has no snapshot time: its latest instrument
`creation` is 2024-05-24 08:13 UTC and its earliest maturity 2024-05-25 08:00 UTC, so we date it
`SNAPSHOT` = 2024-05-24 08:15 UTC, just after the last creation.

Per expiry:
- T = (maturity - snapshot) / 365 days (`YEAR`, as Deribit and `contracts/math/constants.vy` count);
- forward F from put-call parity on the mark prices with r = 0: mark prices are in ETH, so
  C - P in USD = (call mark - put mark) * index and F = K + (C - P); F is the median of that over
  the `FORWARD_STRIKES` (5) strikes nearest the index that have both a call and a put;
- k = ln(K / F), total variance w = (mark_iv / 100)^2 * T, from the out-of-the-money quote (call
  for K >= F, put below; the other side when the OTM one is missing: Deribit marks both sides at
  the same iv, up to 0.28 vol points in this file); a strike whose quote has a zero mark price
  (below the 0.0001 ETH tick, so no price information) is dropped;
- expiries with fewer than `MIN_STRIKES` (5) distinct strikes are rejected.

The fit is plain (unweighted) least squares on total variance, with scipy's trust-region
reflective `least_squares` (analytic Jacobian) from `N_STARTS` starting points, keeping the lowest
cost. The constraints are built in by reparametrising, so box bounds are enough: the optimiser
sees (w_min, s_left, s_right, m, sigma), with the wing slopes s_left = b (1 - rho) and
s_right = b (1 + rho), so that

    b = (s_left + s_right) / 2,  rho = (s_right - s_left) / (s_right + s_left),
    a = w_min - sigma sqrt(s_left s_right)      (= w_min - b sigma sqrt(1 - rho^2)),

and the bounds w_min >= 0, SLOPE_MIN <= s_left, s_right <= SLOPE_MAX, SIGMA_MIN <= sigma give
a + b sigma sqrt(1 - rho^2) = w_min >= 0, b > 0, |rho| < 1 and sigma > 0 for every iterate, and
in addition Lee's moment bound b (1 + |rho|) <= 2 (no wing steeper than 2 in total variance,
which keeps the on-chain extrapolation out to |k| = 10 free of static arbitrage in the wings).
The bounds also sit inside the on-chain size limits of `svi.vy` (b <= 100, |m| <= 10, sigma <= 10).

Fit quality is limited by the data: several long expiries have mark ivs that jump by 5-12 vol
points between neighbouring strikes (2024-12-27: 76.02 at 3800, 85.11 at 3900, 79.52 at 4000,
85.81 at 4300, 73.03 at 4400) and flat plateaus in the wings (2024-06-28: 116.04 from 1000 to
1400), which no smooth smile follows; RMSEs are 0.2-4.2 vol points (see scripts/fit_svi.py).

Snapshot caveat: pricing each expiry's near-forward mark price (ETH marks converted at the
forward, Deribit's convention for inverse options) with its own mark iv gives back the mark only
if T is about 11 hours shorter (10.4-12.3 h over the ten expiries), i.e. the marks look struck at
about 19:00-19:30 UTC on 2024-05-24, not 08:15. We keep 08:15 as specified; since the surface is
fitted to the mark ivs, vols read at the re-dated expiries are unaffected, only the time labels.

`to_wad` rounds the floats to WAD integers and then raises `a` by the fewest wei that make the
integer slice pass the exact on-chain check (`valid_wad`, the integer twin of `svi._check`);
rounding never lowers w by more than a few 1e-18.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from decimal import ROUND_HALF_EVEN, Decimal
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from dsi.reference.pricing import WAD, YEAR, svi_total_variance, svi_valid

ROOT = Path(__file__).resolve().parents[2]
CHAIN_CSV = Path("/work/shared/data/eth_options_chain_2024-05-24_deribit.csv")
SURFACE_JSON = ROOT / "data" / "svi_eth_2024-05-24.json"
SOURCE = (
    "Deribit ETH option marks, eth_options_chain_2024-05-24_deribit.csv "
    "(sol-dnn/HestonCryptoPricing data/eth_options.csv @ cf002875b24e2e11a55c115ed4669d30db9e76f8)"
)
SNAPSHOT = datetime(2024, 5, 24, 8, 15, tzinfo=timezone.utc)

MIN_STRIKES = 5
FORWARD_STRIKES = 5
N_STARTS = 18
SLOPE_MIN = 1e-4  # wing slopes b (1 -/+ rho) >= 1e-4: b > 0 and |rho| <= 0.9999
SLOPE_MAX = 2.0  # Lee's moment bound on the wing slopes of total variance
SIGMA_MIN = 0.01  # keeps the ATM curvature b / sigma bounded (no kinks fitted to noise)
M_MAX = 5.0
SIGMA_MAX = 5.0

# On-chain bounds and units of contracts/math/svi.vy.
E36 = 10**36
ONCHAIN_A_MAX = 100 * WAD
ONCHAIN_B_MAX = 100 * WAD
ONCHAIN_M_MAX = 10 * WAD
ONCHAIN_SIGMA_MAX = 10 * WAD
PARAM_NAMES = ("a", "b", "rho", "m", "sigma")


@dataclass
class Quote:
    strike: float
    call_mark: float | None = None  # ETH
    put_mark: float | None = None  # ETH
    call_iv: float | None = None  # percent
    put_iv: float | None = None  # percent
    index: list[float] = field(default_factory=list)


@dataclass
class Slice:
    """One expiry's market data, ready to fit."""

    expiry: datetime
    tte: float  # years
    forward: float
    strikes: np.ndarray
    k: np.ndarray  # ln(K / F)
    iv: np.ndarray  # decimal (0.65 for 65%)

    @property
    def w(self) -> np.ndarray:
        return self.iv**2 * self.tte

    @property
    def n_strikes(self) -> int:
        return len(self.strikes)


@dataclass
class Fit:
    params: tuple[float, float, float, float, float]  # a, b, rho, m, sigma
    rmse_vol: float  # vol points (1.0 = 1% vol)
    max_err_vol: float  # vol points
    cost: float  # 0.5 * sum of squared total-variance residuals


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def load_chain(path: Path | str = CHAIN_CSV) -> tuple[dict[datetime, dict[float, Quote]], float]:
    """The chain grouped by maturity then strike, and the spot (median index price over all rows)."""
    chain: dict[datetime, dict[float, Quote]] = {}
    indices = []
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            strike = float(row["strike"])
            quote = chain.setdefault(_parse_time(row["maturity"]), {}).setdefault(strike, Quote(strike))
            index = float(row["index_price"])
            side = row["option_type"]
            if side == "call":
                quote.call_mark, quote.call_iv = float(row["mark_price"]), float(row["mark_iv"])
            elif side == "put":
                quote.put_mark, quote.put_iv = float(row["mark_price"]), float(row["mark_iv"])
            else:
                raise ValueError(f"unknown option_type {side!r}")
            quote.index.append(index)
            indices.append(index)
    return chain, statistics.median(indices)


def estimate_forward(quotes: dict[float, Quote], spot: float, n: int = FORWARD_STRIKES) -> float:
    """Median of K + (C - P) over the `n` strikes nearest `spot` quoted on both sides (r = 0).

    C - P is converted from ETH to USD with the index recorded on those rows. Falls back to
    `spot` when no strike has both a call and a put.
    """
    pairs = [q for q in quotes.values() if q.call_mark is not None and q.put_mark is not None]
    pairs.sort(key=lambda q: abs(q.strike - spot))
    estimates = [
        q.strike + (q.call_mark - q.put_mark) * statistics.fmean(q.index) for q in pairs[:n]
    ]
    return statistics.median(estimates) if estimates else spot


def build_slices(
    chain: dict[datetime, dict[float, Quote]],
    spot: float,
    snapshot: datetime = SNAPSHOT,
    min_strikes: int = MIN_STRIKES,
) -> tuple[list[Slice], list[tuple[datetime, int]]]:
    """Slices for expiries with at least `min_strikes` strikes, and the rejected (expiry, n_strikes)."""
    slices, rejected = [], []
    for expiry in sorted(chain):
        quotes = chain[expiry]
        if len(quotes) < min_strikes:
            rejected.append((expiry, len(quotes)))
            continue
        tte = (expiry - snapshot).total_seconds() / YEAR
        if tte <= 0:
            raise ValueError(f"expiry {expiry} is not after the snapshot {snapshot}")
        forward = estimate_forward(quotes, spot)
        strikes, ivs = [], []
        for strike in sorted(quotes):
            q = quotes[strike]
            call, put = (q.call_iv, q.call_mark), (q.put_iv, q.put_mark)
            otm, itm = (call, put) if strike >= forward else (put, call)
            iv, mark = otm if otm[0] is not None else itm
            if iv is None or iv <= 0 or not mark > 0:
                continue
            strikes.append(strike)
            ivs.append(iv / 100.0)
        strikes = np.array(strikes)
        slices.append(Slice(expiry, tte, forward, strikes, np.log(strikes / forward), np.array(ivs)))
    return slices, rejected


def _to_raw(x) -> tuple[float, float, float, float, float]:
    """(w_min, s_left, s_right, m, sigma) -> raw (a, b, rho, m, sigma)."""
    wmin, s_left, s_right, m, sigma = (float(v) for v in x)
    b = 0.5 * (s_left + s_right)
    rho = (s_right - s_left) / (s_right + s_left)
    # b * sqrt(1 - rho^2) = sqrt(s_left * s_right)
    return (wmin - sigma * math.sqrt(s_left * s_right), b, rho, m, sigma)


def _from_raw(a: float, b: float, rho: float, m: float, sigma: float) -> np.ndarray:
    return np.array([a + b * sigma * math.sqrt(1.0 - rho * rho), b * (1.0 - rho), b * (1.0 + rho), m, sigma])


def _jacobian(x, k: np.ndarray) -> np.ndarray:
    """d w(k) / d (w_min, s_left, s_right, m, sigma)."""
    _, s_left, s_right, m, sigma = (float(v) for v in x)
    km = k - m
    root = np.sqrt(km * km + sigma * sigma)
    b = 0.5 * (s_left + s_right)
    jac = np.empty((len(k), 5))
    jac[:, 0] = 1.0
    jac[:, 1] = 0.5 * (root - km) - 0.5 * sigma * math.sqrt(s_right / s_left)
    jac[:, 2] = 0.5 * (root + km) - 0.5 * sigma * math.sqrt(s_left / s_right)
    jac[:, 3] = -0.5 * (s_right - s_left) - b * km / root
    jac[:, 4] = b * sigma / root - math.sqrt(s_left * s_right)
    return jac


def svi_w(k: np.ndarray, a: float, b: float, rho: float, m: float, sigma: float) -> np.ndarray:
    """Vectorised raw-SVI total variance."""
    km = k - m
    return a + b * (rho * km + np.sqrt(km * km + sigma * sigma))


def _starts(k: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
    """N_STARTS starting points in (w_min, s_left, s_right, m, sigma): skew in {-0.5, 0, 0.5} x
    three centres m around the lowest quote x two widths sigma, with the wing slope from the data."""
    span = max(float(k.max() - k.min()), 1e-3)
    slope = min(max(float((w.max() - w.min()) / span), 1e-3), 1.0)
    k_low = float(k[np.argmin(w)])
    out = []
    for skew in (-0.5, 0.0, 0.5):
        for m in (k_low - 0.25 * span, k_low, k_low + 0.25 * span):
            for sigma in (0.05 * span, 0.3 * span):
                wmin = 0.9 * float(w.min())
                out.append(np.array([wmin, slope * (1.0 - skew), slope * (1.0 + skew), m, sigma]))
    return out


def fit_svi(k: np.ndarray, w: np.ndarray, tte: float, starts: list[np.ndarray] | None = None) -> Fit:
    """Least-squares raw-SVI fit of total variance `w` at log-moneyness `k` (expiry `tte` years).

    Plain (unweighted) residuals w_model - w_market; the fitted slice is valid and within Lee's
    wing bound by construction (see the module docstring). Errors are reported in vol points on
    sqrt(w / T). Deterministic: the same data give the same fit.
    """
    k, w = np.asarray(k, float), np.asarray(w, float)
    if len(k) < MIN_STRIKES:
        raise ValueError(f"need at least {MIN_STRIKES} strikes, got {len(k)}")
    lower = np.array([0.0, SLOPE_MIN, SLOPE_MIN, -M_MAX, SIGMA_MIN])
    upper = np.array([2.0 * max(float(w.max()), 1e-6), SLOPE_MAX, SLOPE_MAX, M_MAX, SIGMA_MAX])

    best = None
    for x0 in starts if starts is not None else _starts(k, w):
        x0 = np.clip(x0, lower + 1e-9, upper - 1e-9)
        res = least_squares(
            lambda x: svi_w(k, *_to_raw(x)) - w, x0, jac=lambda x: _jacobian(x, k),
            bounds=(lower, upper), method="trf", x_scale="jac",
            xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=100,
        )
        if best is None or res.cost < best.cost:
            best = res
    params = _to_raw(best.x)
    model_vol = np.sqrt(np.maximum(svi_w(k, *params), 0.0) / tte)
    err = (model_vol - np.sqrt(w / tte)) * 100.0
    return Fit(params, float(np.sqrt(np.mean(err**2))), float(np.max(np.abs(err))), float(best.cost))


def valid_wad(a: int, b: int, rho: int, m: int, sigma: int) -> bool:
    """Exact integer twin of `svi._check` (contracts/math/svi.vy): True iff it would not revert."""
    if b < 0 or not (-WAD < rho < WAD) or sigma <= 0:
        return False
    if abs(a) > ONCHAIN_A_MAX or b > ONCHAIN_B_MAX or abs(m) > ONCHAIN_M_MAX or sigma > ONCHAIN_SIGMA_MAX:
        return False
    root = math.isqrt(WAD * WAD - rho * rho)
    return a * WAD * WAD + b * sigma * root >= 0


def to_wad(params) -> dict[str, int]:
    """Round a float slice to WAD integers, raising `a` by the fewest wei that make it pass
    both the on-chain check (`valid_wad`) and the float reference `svi_valid` of the rounded values."""
    # Exact decimal rounding of each float's shortest repr, so params_wad == round(params * 1e18).
    a, b, rho, m, sigma = (
        int((Decimal(repr(float(x))) * WAD).to_integral_value(ROUND_HALF_EVEN)) for x in params
    )
    if not valid_wad(0, b, rho, m, sigma):
        raise ValueError(f"slice cannot be made valid by raising a: {params}")
    root = math.isqrt(WAD * WAD - rho * rho)
    # Smallest a with a * 1e36 + b * sigma * root >= 0.
    a = max(a, -((b * sigma * root) // (WAD * WAD)))
    while not svi_valid(*(x / WAD for x in (a, b, rho, m, sigma))):
        a += 1
    assert valid_wad(a, b, rho, m, sigma)
    return dict(zip(PARAM_NAMES, (a, b, rho, m, sigma)))


def fit_chain(path: Path | str = CHAIN_CSV, snapshot: datetime = SNAPSHOT):
    """Load, slice and fit the whole chain: (spot, [(Slice, Fit)], rejected)."""
    chain, spot = load_chain(path)
    slices, rejected = build_slices(chain, spot, snapshot)
    return spot, [(s, fit_svi(s.k, s.w, s.tte)) for s in slices], rejected


def surface_document(spot: float, fits, snapshot: datetime = SNAPSHOT) -> dict:
    """The JSON document written to data/svi_eth_2024-05-24.json."""
    expiries = []
    for s, f in fits:
        expiries.append({
            "expiry": s.expiry.isoformat().replace("+00:00", "Z"),
            "expiry_ts": int(s.expiry.timestamp()),
            "tte_days": s.tte * 365.0,
            "forward": s.forward,
            "params_wad": to_wad(f.params),
            "params": dict(zip(PARAM_NAMES, f.params)),
            "rmse_vol_points": f.rmse_vol,
            "max_err_vol_points": f.max_err_vol,
            "n_strikes": s.n_strikes,
        })
    return {
        "source": SOURCE,
        "snapshot": snapshot.isoformat().replace("+00:00", "Z"),
        "snapshot_ts": int(snapshot.timestamp()),
        "spot": spot,
        "method": (
            "raw SVI per expiry; T in 365-day years; forward = median of K + (C - P) (put-call parity, "
            "r = 0) over the 5 strikes nearest the index; OTM mark iv (zero marks dropped); plain least "
            f"squares on total variance from {N_STARTS} starts; wing slopes b(1 +/- rho) <= {SLOPE_MAX} "
            f"(Lee), sigma >= {SIGMA_MIN}; expiries with fewer than {MIN_STRIKES} strikes rejected"
        ),
        "expiries": expiries,
    }


def load_surface(path: Path | str = SURFACE_JSON) -> dict:
    with open(path) as fh:
        return json.load(fh)


def surface_for_chain(now_ts: int, surface: dict | None = None) -> list[dict]:
    """The committed surface re-dated to a chain whose clock reads `now_ts`.

    Each expiry keeps its exact time to expiry from the snapshot (expiry_ts - snapshot_ts seconds)
    and is moved to now_ts + that. Returns, in expiry order, dicts with `expiry_ts` (the shifted
    unix time), `tte_seconds`, `params_wad` and `params` (floats), ready for `VolFeed.push`.
    """
    surface = load_surface() if surface is None else surface
    out = []
    for e in surface["expiries"]:
        tte = int(e["expiry_ts"]) - int(surface["snapshot_ts"])
        out.append({
            "expiry_ts": int(now_ts) + tte,
            "tte_seconds": tte,
            "params_wad": dict(e["params_wad"]),
            "params": dict(e["params"]),
        })
    return sorted(out, key=lambda e: e["expiry_ts"])


def atm_vol_index(slices: list[tuple[int, tuple[float, ...]]], now_ts: int, tenor: int) -> float:
    """Float reference of `VolFeed.atm_vol_index`.

    `slices` is [(expiry_ts, (a, b, rho, m, sigma))] of the fresh, unexpired slices. The ATM
    (k = 0) total variance is interpolated linearly in time to expiry between the two expiries
    bracketing `tenor` seconds; outside the listed range the nearest expiry's ATM vol is used
    (flat-vol extrapolation). Returns the vol as a float (0.65 for 65%).
    """
    points = sorted((e - now_ts, svi_total_variance(0.0, *p)) for e, p in slices if e > now_ts)
    if not points:
        raise ValueError("no fresh expiry")
    below = [p for p in points if p[0] <= tenor]
    above = [p for p in points if p[0] >= tenor]
    if not below:
        t, w = above[0]
        return math.sqrt(w * YEAR / t)
    if not above:
        t, w = below[-1]
        return math.sqrt(w * YEAR / t)
    (t0, w0), (t1, w1) = below[-1], above[0]
    w = w0 if t1 == t0 else (w0 * (t1 - tenor) + w1 * (tenor - t0)) / (t1 - t0)
    return math.sqrt(w * YEAR / tenor)
