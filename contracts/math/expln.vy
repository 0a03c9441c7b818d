# pragma version ~=0.4.3
"""
@title High-precision exponential for the pricing library
@custom:contract-name expln
@license GNU Affero General Public License v3.0 only
@notice `_exp_e36`: exp in E36 with ~18 significant digits at any
        magnitude. snekmate's `_wad_exp` rounds to WAD, an absolute floor of
        1e-18 that would leave a normal tail at 1e-9 with 9 digits; for
        everything else (discount factors, ln) the library uses snekmate.
        A faster ln of our own (atanh series in 2^96) was measured at 1,372
        gas against snekmate's 1,336 and dropped.
"""

LN2_E36: constant(int256) = 693_147_180_559_945_309_417_232_121_458_176_568
EXP_ARG_MIN: constant(int256) = -85 * 10 ** 36  # exp(-85) = 1.2e-37 rounds to 0 in E36
EXP_ARG_MAX: constant(int256) = 40 * 10 ** 36


@internal
@pure
def _exp_e36(x: int256) -> uint256:
    """
    @dev exp(x) in E36 for x in E36, -85 <= x <= 40 (0 below -85, where the
         value rounds to 0 in E36). Range reduction x = k ln2 + r with
         |r| <= ln2/2, then the [6/6] Pade approximant
             exp(r) = (E(r^2) + r O(r^2)) / (E(r^2) - r O(r^2)),
             E = 665280 + 75600 r^2 + 840 r^4 + r^6,  O = 332640 + 10080 r^2 + 42 r^4,
         whose relative error is < 2e-19 on |r| <= ln2/2, evaluated in E27.
         Unlike a WAD exponential, the result keeps ~18 significant digits
         down to 1e-18 and beyond, which the normal tails need.
         Rounding: truncation (relative error < 3e-19 overall). Gas: ~300.
    @param x The exponent in E36.
    @return uint256 exp(x) * 1e36.
    """
    if x < EXP_ARG_MIN:
        return 0
    assert x <= EXP_ARG_MAX, "normal: exp overflow"
    # k = round(x / ln2): shift by 256 ln2 (> 85) so the division is of a
    # positive number and floors. |x| <= 85e36: no overflow anywhere below.
    k: int256 = unsafe_sub(unsafe_div(unsafe_add(unsafe_add(x, unsafe_mul(256, LN2_E36)), LN2_E36 // 2), LN2_E36), 256)
    r: int256 = unsafe_div(unsafe_sub(x, unsafe_mul(k, LN2_E36)), 10 ** 9)  # E27, |r| <= 0.347e27
    r2: int256 = unsafe_div(unsafe_mul(r, r), 10 ** 27)
    # E < 6.7e32, O < 3.4e32 in E27; every product below is < 1e66.
    e: int256 = unsafe_add(
        unsafe_div(
            unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(r2, 840 * 10 ** 27), r2), 10 ** 27), 75_600 * 10 ** 27), r2),
            10 ** 27,
        ),
        665_280 * 10 ** 27,
    )
    o: int256 = unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_mul(42, r2), 10_080 * 10 ** 27), r2), 10 ** 27), 332_640 * 10 ** 27)
    ro: int256 = unsafe_div(unsafe_mul(r, o), 10 ** 27)
    # (E + rO) / (E - rO) in E36, in [0.70, 1.42] * 1e36; E - rO > 5e32.
    ratio: uint256 = convert(unsafe_div(unsafe_mul(unsafe_add(e, ro), 10 ** 36), unsafe_sub(e, ro)), uint256)
    if k >= 0:
        return ratio << convert(k, uint256)  # k <= 58: < 2^180
    return ratio >> convert(-k, uint256)
