# pragma version ~=0.4.3
"""
@title Black-76 option pricing on the forward, in WAD fixed point
@custom:contract-name black76
@license GNU Affero General Public License v3.0 only
@notice Call and put prices, greeks and implied volatility of a European
        option on the forward F = S * exp(r * T), discounted at exp(-r * T)
        (equivalently Black-Scholes without dividends).

        Units: spot and strike in WAD USD; vol and rate in WAD (0.8e18 = 80%,
        continuously compounded); time to expiry in seconds, a year being
        365 days (31,536,000 s), as Deribit counts.

        Precision: the out-of-the-money side is priced directly,
            OTM call = S N(d1) - K DF N(d2),   OTM put = K DF N(-d2) - S N(-d1),
        and the in-the-money side from put-call parity (C - P = S - K DF), so
        no price is the small difference of two large numbers. N() comes from
        `normal` in E36 with one Gaussian exponential shared by d1 and d2
        (S phi(d1) = K DF phi(d2)). s = vol * sqrt(T) is carried in E27.

        Rounding: `roundup = True` (a liability: a short's mark, a
        requirement) rounds the computed value up, `roundup = False` (an
        asset credited to a user: a long's mark) rounds it down. The
        computed value itself carries ~1e-18 x (spot + strike) of
        approximation error in either direction (measured against a
        50-digit reference), so the direction is guaranteed at the rounding
        step, not beyond the approximation; see README for measured figures.
"""

from snekmate.utils import math
# @dev `_wad_ln` for ln(S/K), `_wad_exp` for the discount factor, `_ceil_div`.
from . import constants as c
from . import normal

# @dev Implied vol: iteration cap and the vol step at which Newton stops.
IV_MAX_ITER: constant(uint256) = 64
IV_VOL_TOL: constant(uint256) = 10 ** 5  # 1e-13 in vol units


struct Setup:
    df: uint256  # discount factor exp(-r T), WAD
    kdf: uint256  # K * DF, WAD
    x: int256  # ln(F / K), WAD
    sqrt_tau: uint256  # sqrt(T in years), E27


struct OtmLeg:
    price: uint256  # value of the out-of-the-money option, E36 * WAD
    n1: uint256  # N(w d1), E36, w = +1 for the OTM call, -1 for the OTM put
    n2: uint256  # N(w d2), E36
    gauss1: uint256  # exp(-d1^2/2), E36 (sqrt(2 pi) phi(d1))


struct Greeks:
    delta: int256  # dV/dS, WAD
    gamma: uint256  # d2V/dS2, WAD per USD
    vega: uint256  # dV/dvol, WAD USD per 1.00 of vol
    theta: int256  # dV/dt, WAD USD per year (calendar time passing)


@internal
@pure
def _check(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256):
    """
    @dev Reverts with a `pricer:` reason outside the documented domain:
         0 < spot <= 1e33, 0.001 <= strike/spot <= 1000, tte <= 10 years,
         0 < vol <= 1000%, |rate| <= 100%.
    """
    assert spot != 0, "pricer: zero spot"
    assert strike != 0, "pricer: zero strike"
    assert spot <= c.SPOT_MAX, "pricer: spot too large"
    # spot <= 1e33 and strike <= 1e36 once the first bound holds: the
    # products below are < 1e60, so unchecked arithmetic is exact.
    assert strike <= unsafe_mul(spot, c.MONEYNESS_BAND), "pricer: strike/spot out of band"
    assert unsafe_mul(strike, c.MONEYNESS_BAND) >= spot, "pricer: strike/spot out of band"
    assert tte <= c.TTE_MAX, "pricer: expiry too far"
    assert vol != 0, "pricer: zero vol"
    assert vol <= c.VOL_MAX, "pricer: vol above cap"
    assert rate <= c.RATE_MAX and rate >= -c.RATE_MAX, "pricer: rate out of range"


@internal
@pure
def _setup(spot: uint256, strike: uint256, tte: uint256, rate: int256) -> Setup:
    """
    @dev The vol-independent part of a price: DF, K*DF, ln(F/K), sqrt(T).
         Inputs already checked by `_check`. Gas: ~2,300 (ln + exp + isqrt).
    """
    # |rate| <= 1e18 and tte <= 3.2e8: |rate * tte| < 3.2e26.
    rt: int256 = unsafe_div(unsafe_mul(rate, convert(tte, int256)), convert(c.YEAR, int256))
    df: uint256 = convert(math._wad_exp(-rt), uint256)
    kdf: uint256 = unsafe_div(unsafe_mul(strike, df), c.WAD)  # strike <= 1e39, df <= 2.72e18
    # spot * 1e18 <= 1e54; the ratio is in [1e15, 1e21].
    x: int256 = unsafe_add(math._wad_ln(convert(unsafe_div(unsafe_mul(spot, c.WAD), strike), int256)), rt)
    # tte * 1e54 / YEAR < 1e55: sqrt is E27.
    sqrt_tau: uint256 = isqrt(unsafe_div(unsafe_mul(tte, 10 ** 54), c.YEAR))
    return Setup(df=df, kdf=kdf, x=x, sqrt_tau=sqrt_tau)


@internal
@pure
def _otm(spot: uint256, su: Setup, vol: uint256) -> OtmLeg:
    """
    @dev The out-of-the-money option (call if F < K, put if F >= K) at `vol`,
         in E36 * WAD units (divide by 1e36, in the caller's chosen
         direction, for a WAD price). One Gaussian exponential serves both
         d1 and d2: it is computed for the d nearer the mean and scaled by
         F/K or K/F (<= 1) for the other. Gas: ~2,600.
    """
    # s = vol sqrt(T) in E27: vol <= 1e19, sqrt_tau <= 3.2e27.
    s: uint256 = unsafe_div(unsafe_mul(vol, su.sqrt_tau), c.WAD)
    # d1 = x/s + s/2, d2 = d1 - s, in WAD. |x| < 7e18 so |x| * 1e27 < 7e45.
    s_wad: int256 = convert(unsafe_div(s, 10 ** 9), int256)
    d1: int256 = unsafe_add(unsafe_div(unsafe_mul(su.x, 10 ** 27), convert(s, int256)), unsafe_div(s_wad, 2))
    d2: int256 = unsafe_sub(d1, s_wad)
    leg: OtmLeg = empty(OtmLeg)
    if su.x < 0:
        # OTM call, |d2| >= |d1|: exp(-d2^2/2) = exp(-d1^2/2) * F/K, F/K = S / KDF < 1.
        g1: uint256 = normal._gauss_of(d1)
        g2: uint256 = unsafe_div(unsafe_mul(g1, spot), su.kdf)
        # d2 < 0 here (x < 0), d1 may have either sign.
        leg.n2 = normal._lower_tail_e36(convert(-d2, uint256), g2)
        if d1 < 0:
            leg.n1 = normal._lower_tail_e36(convert(-d1, uint256), g1)
        else:
            leg.n1 = unsafe_sub(c.E36, normal._lower_tail_e36(convert(d1, uint256), g1))
        leg.gauss1 = g1
        # S N(d1) >= K DF N(d2) mathematically; guard the last-digit case.
        a: uint256 = spot * leg.n1
        b: uint256 = su.kdf * leg.n2
        if a > b:
            leg.price = unsafe_sub(a, b)
    else:
        # OTM put, |d1| >= |d2|: exp(-d1^2/2) = exp(-d2^2/2) * K/F, K/F = KDF / S <= 1.
        g2: uint256 = normal._gauss_of(d2)
        g1: uint256 = unsafe_div(unsafe_mul(g2, su.kdf), spot)
        # -d1 <= 0 here (x >= 0), -d2 may have either sign.
        leg.n1 = normal._lower_tail_e36(convert(d1, uint256), g1)
        if d2 > 0:
            leg.n2 = normal._lower_tail_e36(convert(d2, uint256), g2)
        else:
            leg.n2 = unsafe_sub(c.E36, normal._lower_tail_e36(convert(-d2, uint256), g2))
        leg.gauss1 = g1
        a: uint256 = su.kdf * leg.n2
        b: uint256 = spot * leg.n1
        if a > b:
            leg.price = unsafe_sub(a, b)
    return leg


@internal
@pure
def _intrinsic(spot: uint256, strike: uint256, is_call: bool) -> uint256:
    if is_call:
        if spot > strike:
            return unsafe_sub(spot, strike)
        return 0
    if strike > spot:
        return unsafe_sub(strike, spot)
    return 0


@internal
@pure
def _div_e36(x: uint256, roundup: bool) -> uint256:
    if roundup:
        return math._ceil_div(x, c.E36)
    return unsafe_div(x, c.E36)


@internal
@pure
def _price(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256, is_call: bool, roundup: bool) -> uint256:
    """
    @dev Black-76 price in WAD USD per unit of underlying. tte == 0 returns
         intrinsic value. Rounds up when `roundup` (protocol-favourable for
         liabilities), down otherwise. Gas: ~5,000.
    """
    self._check(spot, strike, tte, vol, rate)
    if tte == 0:
        return self._intrinsic(spot, strike, is_call)
    su: Setup = self._setup(spot, strike, tte, rate)
    leg: OtmLeg = self._otm(spot, su, vol)
    if is_call == (su.x < 0):
        return self._div_e36(leg.price, roundup)
    # In the money: parity from the OTM side, C - P = S - K DF (>= 0 here up
    # to the one-wei truncation of K DF, hence the guards).
    fwd_intrinsic: uint256 = 0
    if is_call and spot > su.kdf:
        fwd_intrinsic = spot - su.kdf
    elif not is_call and su.kdf > spot:
        fwd_intrinsic = su.kdf - spot
    # fwd_intrinsic is whole wei: adding it after the division rounds identically.
    return self._div_e36(leg.price, roundup) + fwd_intrinsic


@internal
@pure
def _greeks(spot: uint256, strike: uint256, tte: uint256, vol: uint256, rate: int256, is_call: bool) -> Greeks:
    """
    @dev Delta (WAD), gamma (WAD per USD), vega (WAD USD per 1.00 vol) and
         theta (WAD USD per year of calendar time, usually negative).
         At tte == 0: delta is 1 (call) / -1 (put) strictly in the money,
         0 otherwise, and the other greeks are 0. Truncated toward zero.
    """
    self._check(spot, strike, tte, vol, rate)
    g: Greeks = empty(Greeks)
    if tte == 0:
        if is_call and spot > strike:
            g.delta = c.IWAD
        elif not is_call and strike > spot:
            g.delta = -c.IWAD
        return g
    su: Setup = self._setup(spot, strike, tte, rate)
    leg: OtmLeg = self._otm(spot, su, vol)
    call_is_otm: bool = su.x < 0
    # N(d1), N(d2) and N(-d1), N(-d2) in E36 from the OTM leg.
    nd1: uint256 = leg.n1
    nd2: uint256 = leg.n2
    if not call_is_otm:
        nd1 = c.E36 - leg.n1
        nd2 = c.E36 - leg.n2
    # phi(d1) in E36.
    pdf1: uint256 = unsafe_div(unsafe_mul(leg.gauss1, normal.INV_SQRT_2PI_E36), c.E36)
    s: uint256 = unsafe_div(unsafe_mul(vol, su.sqrt_tau), c.WAD)  # E27
    if is_call:
        g.delta = convert(nd1 // c.WAD, int256)
    else:
        g.delta = -convert((c.E36 - nd1) // c.WAD, int256)
    # gamma = phi(d1) / (S s): E36 * 1e27 * 1e18 / (WAD * E27) -> WAD / USD.
    g.gamma = pdf1 * 10 ** 27 // (spot * s // c.WAD) // 10 ** 18 if spot * s >= c.WAD else 0
    # vega = S phi(d1) sqrt(T): WAD * E36 * E27 / 1e63 -> WAD.
    g.vega = spot * pdf1 // c.E36 * su.sqrt_tau // c.E27
    # theta = -S phi(d1) vol / (2 sqrt(T)) -/+ r K DF N(+-d2).
    decay: uint256 = spot * pdf1 // c.E36 * vol // c.WAD * c.E27 // (2 * su.sqrt_tau)
    carry: int256 = 0
    if is_call:
        carry = -(rate * convert(math._mul_div(su.kdf, nd2, c.E36, False), int256) // c.IWAD)
    else:
        carry = rate * convert(math._mul_div(su.kdf, c.E36 - nd2, c.E36, False), int256) // c.IWAD
    g.theta = -convert(decay, int256) + carry
    return g


@internal
@pure
def _vega_of(spot: uint256, su: Setup, leg: OtmLeg) -> uint256:
    """
    @dev dPrice/dvol in E36 * WAD units (same scale as `OtmLeg.price`):
         S phi(d1) sqrt(T).
    """
    pdf1: uint256 = unsafe_div(unsafe_mul(leg.gauss1, normal.INV_SQRT_2PI_E36), c.E36)
    return spot * pdf1 // c.E27 * su.sqrt_tau


@internal
@pure
def _implied_vol(price: uint256, spot: uint256, strike: uint256, tte: uint256, rate: int256, is_call: bool) -> uint256:
    """
    @dev Implied volatility (WAD) from a WAD price. The price is first
         moved to the out-of-the-money side by parity; a price outside the
         no-arbitrage band (below intrinsic on the forward, above S for a
         call or K DF for a put, or at intrinsic) reverts. Safeguarded
         Newton on the OTM price: a bracket [lo, hi] always holds the root,
         a Newton step leaving it is replaced by bisection, and the search
         reverts if the price needs a vol above the 1,000% cap.
         Converges to 1e-13 in vol in a median of ~7 Newton steps (~2,700 gas
         each), up to ~30 deep out of the money, where Newton from the
         inflection point creeps down the convex branch; see the README.
    """
    self._check(spot, strike, tte, 10 ** 18, rate)
    assert tte != 0, "pricer: zero time to expiry"
    su: Setup = self._setup(spot, strike, tte, rate)
    call_is_otm: bool = su.x < 0
    # Target OTM price in E36 * WAD.
    target: uint256 = price * c.E36
    if is_call:
        assert price < spot, "pricer: price above no-arbitrage bound"
        if not call_is_otm:
            intrinsic: uint256 = (spot - su.kdf) * c.E36 if spot > su.kdf else 0
            assert target > intrinsic, "pricer: price at or below intrinsic"
            target -= intrinsic
    else:
        assert price < su.kdf, "pricer: price above no-arbitrage bound"
        if call_is_otm:
            intrinsic: uint256 = (su.kdf - spot) * c.E36 if su.kdf > spot else 0
            assert target > intrinsic, "pricer: price at or below intrinsic"
            target -= intrinsic
    assert target != 0, "pricer: price at or below intrinsic"

    # Initial guess: the Manaster-Koehler inflection point sqrt(2 |x| / T),
    # where the OTM price turns from convex to concave in vol: Newton from
    # there converges monotonically to the root on either side. At the money
    # (inflection at 0) Brenner-Subrahmanyam sqrt(2 pi / T) P / S instead.
    tau_e27: uint256 = su.sqrt_tau * su.sqrt_tau // c.E27  # years, E27
    sigma: uint256 = isqrt(2 * convert(abs(su.x), uint256) * c.E36 // tau_e27 * 10 ** 9)
    if sigma < 10 ** 15:
        # sqrt(2 pi) * (P / S) / sqrt(T): WAD * E36 / E27 / 1e9 -> WAD.
        sigma = max(2_506_628_274_631_000_502 * (target // spot) // su.sqrt_tau // 10 ** 9, 10 ** 15)
    sigma = min(sigma, c.VOL_MAX)
    lo: uint256 = 0
    hi: uint256 = c.VOL_MAX
    cap_tried: bool = False
    for i: uint256 in range(IV_MAX_ITER):
        leg: OtmLeg = self._otm(spot, su, sigma)
        if leg.price == target:
            return sigma
        if leg.price > target:
            hi = sigma
        else:
            assert sigma < c.VOL_MAX, "pricer: price implies vol above cap"
            lo = sigma
        if sigma == c.VOL_MAX:
            cap_tried = True
        vega: uint256 = self._vega_of(spot, su, leg)
        nxt: uint256 = 0
        if vega != 0:
            # 512-bit mul-div: the residual times 1e18 exceeds 2^256 for
            # prices above ~115,792 USD.
            if leg.price > target:
                dn: uint256 = math._mul_div(leg.price - target, c.WAD, vega, False)
                if dn <= IV_VOL_TOL:
                    return sigma - min(dn, sigma)
                if dn < sigma:
                    nxt = sigma - dn
            else:
                up: uint256 = math._mul_div(target - leg.price, c.WAD, vega, False)
                if up <= IV_VOL_TOL:
                    # Converged: a step this small may round onto the bracket's
                    # edge, which must not send the search into bisection.
                    return sigma + up
                nxt = sigma + up
        if nxt <= lo or nxt >= hi:
            if nxt >= hi and hi == c.VOL_MAX and not cap_tried:
                # Try the cap itself once: above it the search must revert.
                nxt = c.VOL_MAX
            else:
                nxt = (lo + hi) // 2
        step: uint256 = nxt - sigma if nxt > sigma else sigma - nxt
        if step <= IV_VOL_TOL or hi - lo <= IV_VOL_TOL:
            return nxt
        sigma = nxt
    raise "pricer: implied vol did not converge"
