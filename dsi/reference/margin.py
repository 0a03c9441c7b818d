"""Reference margin model: the numpy twin the on-chain MarginEngine is built against.

Positions are (strike, tte_seconds, is_call, amount) with amount > 0 long, < 0 short, in
options on 1 WETH. Every price is Black-76 on the SVI skew of its expiry (`pricing.svi_vol`),
never a flat vol. Three modes plus full collateral:

- full collateral (the vault): a covered call locks 1 WETH, a cash-secured put locks K USD;
- isolated / cross (standard margin, Derive-SRM style): each short needs its mark plus
  max(a - OTM%, b) x spot (puts capped at the strike); longs get no credit (their value
  offsets nothing); isolated is one position per account, so the same formula applied alone;
- portfolio: full revaluation of the whole book on a scenario grid (spot shocks with vol
  up/flat/down, a tail table with damped vol-up, two skew rotations); requirement = worst loss
  x factor + a per-short contingency. Vol shocks scale with (30 days / T)^p, floored.

Units: floats in USD and years here; the contract uses WAD integers and rounds in the
protocol's favour, so on-chain requirements are >= these by at most rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dsi.reference import pricing

YEAR = pricing.YEAR
DAY = 86_400


@dataclass(frozen=True)
class Svi:
    a: float
    b: float
    rho: float
    m: float
    sigma: float

    def vol(self, spot: float, strike: float, tau: float, rate: float = 0.0) -> float:
        return pricing.svi_vol(spot, strike, tau, rate, self.a, self.b, self.rho, self.m, self.sigma)

    def scaled(self, factor: float) -> "Svi":
        """Vol x factor at every strike: total variance x factor^2 (a, b scale)."""
        f2 = factor * factor
        return Svi(self.a * f2, self.b * f2, self.rho, self.m, self.sigma)

    def rotated(self, d_rho: float) -> "Svi":
        rho = max(-0.99, min(0.99, self.rho + d_rho))
        # Keep the minimum variance non-negative after the rotation.
        a = max(self.a, -self.b * self.sigma * math.sqrt(1 - rho * rho))
        return Svi(a, self.b, rho, self.m, self.sigma)


@dataclass(frozen=True)
class Position:
    strike: float
    tte: int  # seconds to expiry
    is_call: bool
    amount: float  # options; > 0 long, < 0 short


@dataclass(frozen=True)
class StandardParams:
    """Derive-SRM-style standard margin: per short, mark + max(a - OTM%, b) x spot."""

    im_a: float = 0.15
    im_b: float = 0.10
    mm_a: float = 0.075
    mm_b: float = 0.05


@dataclass(frozen=True)
class PortfolioParams:
    spot_shocks: tuple = (-0.18, -0.135, -0.09, -0.045, 0.0, 0.045, 0.09, 0.135, 0.18)
    vol_up: float = 0.45  # relative vol shock at 30 days
    vol_down: float = 0.30
    vol_power: float = 0.3  # shocks scale like (30 days / T)^p
    vol_scale_floor: float = 0.5
    vol_scale_cap: float = 3.0
    tail_spots: tuple = (0.34, 0.5, 2.0, 3.0)
    tail_vol_damping: float = 0.5  # tail scenarios use this fraction of the vol-up shock
    tail_weight: float = 0.3  # and count this fraction of their loss (damped tail)
    skew_rotation: float = 0.25  # rho shift of the two rotation scenarios
    mm_factor: float = 1.0
    im_factor: float = 1.3
    contingency: float = 0.005  # x spot per short option

    def scenarios(self) -> list[tuple[float, str, float]]:
        """(spot multiplier, vol kind, parameter): kind in up/flat/down/tail/rot."""
        out = []
        for s in self.spot_shocks:
            for kind in ("up", "flat", "down"):
                out.append((1 + s, kind, 0.0))
        for m in self.tail_spots:
            out.append((m, "tail", 0.0))
        out.append((1.0, "rot", +self.skew_rotation))
        out.append((1.0, "rot", -self.skew_rotation))
        return out

    def vol_scale(self, tte: int) -> float:
        days = max(tte / DAY, 1e-9)
        return min(max((30 / days) ** self.vol_power, self.vol_scale_floor), self.vol_scale_cap)


@dataclass
class Market:
    spot: float
    surfaces: dict  # tte seconds -> Svi
    rate: float = 0.0

    def mark(self, p: Position, spot: float | None = None, surface: Svi | None = None) -> float:
        s = self.spot if spot is None else spot
        svi = surface or self.surfaces[p.tte]
        tau = p.tte / YEAR
        vol = svi.vol(s, p.strike, tau, self.rate)
        return pricing.price(s, p.strike, tau, vol, self.rate, p.is_call)


def full_collateral(book: list[Position], market: Market) -> float:
    """USD value locked by the vault: 1 WETH per covered call, K USD per cash-secured put."""
    total = 0.0
    for p in book:
        if p.amount < 0:
            total += -p.amount * (market.spot if p.is_call else p.strike)
    return total


def _standard_short(p: Position, market: Market, a: float, b: float) -> float:
    s = market.spot
    mark = market.mark(p)
    otm = max(p.strike - s, 0) / s if p.is_call else max(s - p.strike, 0) / s
    req = mark + max(a - otm, b) * s
    if not p.is_call:
        req = min(req, p.strike)  # a put never loses more than its strike
    return -p.amount * req


def standard(book: list[Position], market: Market, params: StandardParams = StandardParams(),
             maintenance: bool = False) -> float:
    """Cross-margin requirement (isolated: the same per position): shorts only, longs no credit."""
    a, b = (params.mm_a, params.mm_b) if maintenance else (params.im_a, params.im_b)
    return sum(_standard_short(p, market, a, b) for p in book if p.amount < 0)


def scenario_pnl(book: list[Position], market: Market, params: PortfolioParams = PortfolioParams(),
                 weth: float = 0.0) -> list[float]:
    """PnL of the book (and `weth` held as collateral, revalued with spot) in each scenario
    against its current mark (negative = loss); tail scenarios weighted by `tail_weight`."""
    base = sum(p.amount * market.mark(p) for p in book)
    out = []
    for mult, kind, arg in params.scenarios():
        value = 0.0
        for p in book:
            svi = market.surfaces[p.tte]
            scale = params.vol_scale(p.tte)
            if kind == "up":
                svi = svi.scaled(1 + params.vol_up * scale)
            elif kind == "down":
                svi = svi.scaled(max(1 - params.vol_down * scale, 0.05))
            elif kind == "tail":
                svi = svi.scaled(1 + params.vol_up * scale * params.tail_vol_damping)
            elif kind == "rot":
                svi = svi.rotated(arg)
            value += p.amount * market.mark(p, spot=market.spot * mult, surface=svi)
        pnl = value - base + weth * market.spot * (mult - 1)
        out.append(pnl * params.tail_weight if kind == "tail" else pnl)
    return out


def portfolio(book: list[Position], market: Market, params: PortfolioParams = PortfolioParams(),
              maintenance: bool = False, weth: float = 0.0) -> float:
    """Portfolio requirement: worst scenario loss x factor + contingency per short option."""
    worst = max(0.0, -min(scenario_pnl(book, market, params, weth)))
    factor = params.mm_factor if maintenance else params.im_factor
    shorts = sum(-p.amount for p in book if p.amount < 0)
    return worst * factor + params.contingency * market.spot * shorts


def portfolio_capital(book: list[Position], market: Market, params: PortfolioParams = PortfolioParams(),
                      weth: float = 0.0) -> float:
    """Collateral value a portfolio account needs to open the book: its realised equity,
    min(collateral + signed marks, collateral), must meet the initial requirement. A book worth
    less than nothing at mark (net short) needs the requirement minus its (negative) value; a
    book worth more (net long: unrealised profit) needs the whole requirement, its value does
    not count as collateral (the engine's Mango 2022 rule)."""
    value = sum(p.amount * market.mark(p) for p in book)
    return portfolio(book, market, params, weth=weth) - min(value, 0.0)


def realised_equity(collateral_value: float, equity: float) -> float:
    """What backs a risk-increasing action: min(equity, collateral value), i.e. collateral plus
    the book's signed marks only when they are negative."""
    return min(equity, collateral_value)


@dataclass
class Book:
    name: str
    positions: list = field(default_factory=list)
    weth: float = 0.0  # WETH held as collateral (a covered call's underlying)


def standard_books(spot: float, tte: int, tte_far: int) -> list[Book]:
    """The capital-efficiency books, strikes around `spot` on one expiry (calendar: two)."""
    k = lambda x: round(spot * x / 50) * 50  # noqa: E731 - Deribit-like 50 USD strike grid
    P = Position
    return [
        Book("naked put", [P(k(0.9), tte, False, -1)]),
        Book("covered call", [P(k(1.1), tte, True, -1)], weth=1.0),
        Book("call spread (short 1.1 / long 1.2)", [P(k(1.1), tte, True, -1), P(k(1.2), tte, True, 1)]),
        Book("put spread (short 0.9 / long 0.8)", [P(k(0.9), tte, False, -1), P(k(0.8), tte, False, 1)]),
        Book("short straddle", [P(k(1.0), tte, True, -1), P(k(1.0), tte, False, -1)]),
        Book("short strangle", [P(k(1.1), tte, True, -1), P(k(0.9), tte, False, -1)]),
        Book("iron condor", [P(k(0.9), tte, False, -1), P(k(0.8), tte, False, 1),
                             P(k(1.1), tte, True, -1), P(k(1.2), tte, True, 1)]),
        Book("calendar (short near / long far call)", [P(k(1.0), tte, True, -1), P(k(1.0), tte_far, True, 1)]),
    ]
