# pragma version ~=0.4.3
"""
@title Option risk on the volatility skew: marks, standard margin, scenario grid
@custom:contract-name risk
@license GNU Affero General Public License v3.0 only
@notice Stateless pieces of the margin engine. Every price is Black-76 at the
        SVI-skew vol of its strike (never a flat vol), with r = 0 (crypto
        forwards are taken as spot; the rate input of the pricer is 0).

        Standard margin (isolated and cross, Derive-SRM style), per short
        option: mark + max(a - OTM%, b) * spot, puts capped at the strike;
        longs get no credit.

        Portfolio margin: the position is revalued on a fixed grid of 33
        scenarios (the order is part of the interface; the reference model
        `dsi/reference/margin.py` uses the same):
          0..26  spot x {0.82, 0.865, 0.91, 0.955, 1, 1.045, 1.09, 1.135,
                 1.18}, each with vol up / flat / down (in that order);
          27..30 tail: spot x {0.34, 0.5, 2, 3} with vol up damped, the
                 loss counted at `tail_weight`;
          31, 32 skew rotations: rho + / - `rotation` (a raised if needed
                 to keep the minimum variance >= 0).
        Vol shocks multiply the whole smile (SVI a and b scale by f^2) by
        1 + vol_up * s or 1 - vol_down * s with s = (30 days / T)^p,
        clamped to [s_floor, s_cap].

        Rounding: marks of what the protocol is owed (shorts) round up,
        of what it credits (longs) round down; requirements round up.
"""

from snekmate.utils import math
# @dev `_wad_ln`, `_wad_exp` for the vol-shock scale (30d / T)^p.
from . import constants as c
from . import black76
from . import svi

NUM_SCENARIOS: constant(uint256) = 33
NUM_GRID: constant(uint256) = 27
KIND_FLAT: constant(uint256) = 0
KIND_UP: constant(uint256) = 1
KIND_DOWN: constant(uint256) = 2
KIND_TAIL: constant(uint256) = 3
KIND_ROT_UP: constant(uint256) = 4
KIND_ROT_DOWN: constant(uint256) = 5
THIRTY_DAYS: constant(uint256) = 30 * 86_400

# @dev Spot multipliers (WAD) and their natural logs (WAD): 9 grid + 4 tail.
SPOT_MULT: constant(uint256[13]) = [
    820_000_000_000_000_000, 865_000_000_000_000_000, 910_000_000_000_000_000, 955_000_000_000_000_000,
    1_000_000_000_000_000_000, 1_045_000_000_000_000_000, 1_090_000_000_000_000_000, 1_135_000_000_000_000_000,
    1_180_000_000_000_000_000, 340_000_000_000_000_000, 500_000_000_000_000_000, 2_000_000_000_000_000_000,
    3_000_000_000_000_000_000,
]
LN_SPOT_MULT: constant(int256[13]) = [
    -198_450_938_723_838_255, -145_025_772_050_257_731, -94_310_679_471_241_327, -46_043_938_501_406_805, 0,
    44_016_885_416_774_327, 86_177_696_241_052_332, 126_632_650_933_365_998, 165_514_438_477_573_392,
    -1_078_809_661_371_929_978, -693_147_180_559_945_309, 693_147_180_559_945_309, 1_098_612_288_668_109_691,
]


struct StandardParams:
    a: uint256  # WAD, e.g. 0.15
    b: uint256  # WAD, e.g. 0.10


struct PortfolioParams:
    vol_up: uint256  # WAD relative shock at 30 days, e.g. 0.45
    vol_down: uint256  # WAD, e.g. 0.30
    vol_power: uint256  # WAD exponent p, e.g. 0.3
    scale_floor: uint256  # WAD, e.g. 0.5
    scale_cap: uint256  # WAD, e.g. 3
    tail_damping: uint256  # WAD fraction of the vol-up shock in tail scenarios, e.g. 0.5
    tail_weight: uint256  # WAD fraction of tail losses counted, e.g. 0.3
    rotation: uint256  # WAD rho shift, e.g. 0.25


@internal
@pure
def _log_moneyness(spot: uint256, strike: uint256) -> int256:
    """
    @dev k = ln(K / S) in WAD (r = 0, so F = S).
    """
    return math._wad_ln(convert(strike * c.WAD // spot, int256))


@internal
@pure
def _price_at(spot: uint256, strike: uint256, tte: uint256, k: int256, p: svi.Params, is_call: bool, roundup: bool) -> uint256:
    """
    @dev Black-76 (r = 0) at spot with log-moneyness k = ln(K/S) already
         known, at the skew vol of the slice p. Saves the ln of `_price`:
         scenario spots shift k by a constant. Gas: ~4,500.
    """
    if tte == 0:
        return black76._intrinsic(spot, strike, is_call)
    vol: uint256 = svi._vol(p, k, tte)
    assert vol != 0, "risk: zero vol"
    # Setup of black76 with DF = 1: x = ln(F/K) = -k.
    su: black76.Setup = black76.Setup(
        df=c.WAD, kdf=strike, x=-k, sqrt_tau=isqrt(tte * 10 ** 54 // c.YEAR)
    )
    leg: black76.OtmLeg = black76._otm(spot, su, min(vol, c.VOL_MAX))
    fwd_intrinsic: uint256 = 0
    if is_call != (k > 0):
        # The ITM side: parity from the OTM leg.
        if is_call and spot > strike:
            fwd_intrinsic = spot - strike
        elif not is_call and strike > spot:
            fwd_intrinsic = strike - spot
    return black76._div_e36(leg.price + fwd_intrinsic * c.E36, roundup)


@internal
@pure
def _mark(spot: uint256, strike: uint256, tte: uint256, p: svi.Params, is_call: bool, roundup: bool) -> uint256:
    """
    @dev The mark (WAD USD per option) on the skew.
    """
    return self._price_at(spot, strike, tte, self._log_moneyness(spot, strike), p, is_call, roundup)


@internal
@pure
def _standard_requirement(spot: uint256, strike: uint256, mark: uint256, is_call: bool, sp: StandardParams) -> uint256:
    """
    @dev Per short option: mark + max(a - OTM%, b) * spot (puts capped at
         the strike), WAD USD, rounded up.
    """
    otm: uint256 = 0  # WAD fraction of spot
    if is_call and strike > spot:
        otm = (strike - spot) * c.WAD // spot
    elif not is_call and spot > strike:
        otm = (spot - strike) * c.WAD // spot
    rate: uint256 = sp.b
    if sp.a > otm and sp.a - otm > sp.b:
        rate = sp.a - otm
    req: uint256 = mark + math._ceil_div(rate * spot, c.WAD)
    if not is_call:
        req = min(req, strike)
    return req


@internal
@pure
def _vol_scale(tte: uint256, pp: PortfolioParams) -> uint256:
    """
    @dev s = clamp((30 days / T)^p, floor, cap) in WAD.
    """
    if tte == 0:
        return pp.scale_cap
    ratio: int256 = convert(THIRTY_DAYS * c.WAD // tte, int256)
    s: uint256 = convert(math._wad_exp(math._wad_ln(ratio) * convert(pp.vol_power, int256) // c.IWAD), uint256)
    return min(max(s, pp.scale_floor), pp.scale_cap)


@internal
@pure
def _shocked(p: svi.Params, factor: uint256) -> svi.Params:
    """
    @dev The slice with every vol multiplied by `factor` (WAD): a, b * f^2.
    """
    f2: int256 = convert(factor * factor // c.WAD, int256)
    return svi.Params(a=p.a * f2 // c.IWAD, b=p.b * f2 // c.IWAD, rho=p.rho, m=p.m, sigma=p.sigma)


@internal
@pure
def _rotated(p: svi.Params, d_rho: int256) -> svi.Params:
    """
    @dev The slice with rho shifted (clamped to +/-0.99) and a raised if
         needed so the minimum variance stays >= 0.
    """
    rho: int256 = min(max(p.rho + d_rho, -990_000_000_000_000_000), 990_000_000_000_000_000)
    root: int256 = convert(isqrt(convert(c.IWAD * c.IWAD - rho * rho, uint256)), int256)
    a_min: int256 = -(p.b * p.sigma // c.IWAD * root // c.IWAD)
    return svi.Params(a=max(p.a, a_min), b=p.b, rho=rho, m=p.m, sigma=p.sigma)


@internal
@pure
def _scenario_values(spot: uint256, strike: uint256, tte: uint256, p: svi.Params, is_call: bool, pp: PortfolioParams) -> uint256[NUM_SCENARIOS]:
    """
    @dev Value (WAD USD per option, rounded down) of one option in each of
         the 33 scenarios. Gas: ~33 prices, ~150k.
    """
    out: uint256[NUM_SCENARIOS] = empty(uint256[NUM_SCENARIOS])
    k: int256 = self._log_moneyness(spot, strike)
    s: uint256 = self._vol_scale(tte, pp)
    up: svi.Params = self._shocked(p, c.WAD + pp.vol_up * s // c.WAD)
    down_shock: uint256 = pp.vol_down * s // c.WAD
    down_factor: uint256 = 5 * 10 ** 16  # never below 5% of the vol
    if down_shock < c.WAD - down_factor:
        down_factor = c.WAD - down_shock
    down: svi.Params = self._shocked(p, down_factor)
    tail: svi.Params = self._shocked(p, c.WAD + pp.vol_up * s // c.WAD * pp.tail_damping // c.WAD)
    for i: uint256 in range(9):
        sp: uint256 = spot * SPOT_MULT[i] // c.WAD
        ki: int256 = k - LN_SPOT_MULT[i]
        out[3 * i] = self._price_at(sp, strike, tte, ki, up, is_call, False)
        out[3 * i + 1] = self._price_at(sp, strike, tte, ki, p, is_call, False)
        out[3 * i + 2] = self._price_at(sp, strike, tte, ki, down, is_call, False)
    for j: uint256 in range(4):
        out[NUM_GRID + j] = self._price_at(spot * SPOT_MULT[9 + j] // c.WAD, strike, tte, k - LN_SPOT_MULT[9 + j], tail, is_call, False)
    out[31] = self._price_at(spot, strike, tte, k, self._rotated(p, convert(pp.rotation, int256)), is_call, False)
    out[32] = self._price_at(spot, strike, tte, k, self._rotated(p, -convert(pp.rotation, int256)), is_call, False)
    return out
