# pragma version ~=0.4.3
"""
@title Standard normal distribution in fixed point
@custom:contract-name normal
@license GNU Affero General Public License v3.0 only
@notice Standard normal CDF and PDF for signed WAD arguments, returned in
        E36 (1e36) fixed point so that tail probabilities keep their
        relative precision: Phi(-6.36) ~ 1e-10 is carried with 26 digits.

        Algorithm: W. J. Cody's rational Chebyshev approximations of the
        normal integral (ACM TOMS 715, `anorm`; the same coefficients as R's
        `pnorm`), in three ranges of z = |x|:
          - z <= 0.66291:        Phi(x) = 1/2 + x * A(x^2) / B(x^2)
          - 0.66291 < z <= 32^.5: Phi(-z) = exp(-z^2/2) * C(z) / D(z)
          - z > 32^.5:           Phi(-z) = exp(-z^2/2) / z * (1/sqrt(2 pi) - P(1/z^2) / Q(1/z^2) / z^2)
        The published coefficients carry 20 significant digits; they are
        stored in E27 and the polynomials evaluated by Horner's rule in E27,
        so the fixed-point evaluation adds < 1e-24 relative error.

        exp(-z^2/2) is where the precision of a tail lives. z^2/2 is exact in
        E36 and `expln._exp_e36` keeps ~18 significant digits of exp() down to
        1e-18 and beyond, instead of the 1e-18 absolute floor of a WAD
        exponential (snekmate's `_wad_exp` rounds to WAD: Phi(-6) would keep
        only 9 digits).

        Domain: any int256 whose absolute value fits the checks below; for
        z >= 13 the tail is below 1e-38 and is returned as 0 (exactly the
        E36 rounding of the true value). Rounding: truncation; callers that
        need a side round the final product, not the probability.
        Gas: ~1,000 in the tails (one exp), ~400 near the centre.
"""

from . import constants as c
from . import expln
# @dev `_exp_e36`: a high-precision exponential for the Gaussian factor.

THRSH: constant(uint256) = 662_910_000_000_000_000  # 0.66291, where Phi = 0.75
ROOT32: constant(uint256) = 5_656_854_249_492_380_195  # sqrt(32)
Z_MAX: constant(uint256) = 13 * 10 ** 18  # Phi(-13) = 6.1e-39 < 0.5e-36
INV_SQRT_2PI_E36: constant(uint256) = 398_942_280_401_432_677_939_946_059_934_381_868
INV_SQRT_2PI_E27: constant(uint256) = 398_942_280_401_432_677_939_946_060  # rounded

# @dev Cody's coefficients in E27 (decimal originals in the comments).
A0: constant(uint256) = 2_235_252_035_460_683_928_700_000_000  # 2.2352520354606839287
A1: constant(uint256) = 161_028_231_068_555_878_810_000_000_000  # 161.02823106855587881
A2: constant(uint256) = 1_067_689_485_460_370_958_200_000_000_000  # 1067.6894854603709582
A3: constant(uint256) = 18_154_981_253_343_561_249_000_000_000_000  # 18154.981253343561249
A4: constant(uint256) = 65_682_337_918_207_449_113_000_000  # 0.065682337918207449113
B0: constant(uint256) = 47_202_581_904_688_241_870_000_000_000  # 47.20258190468824187
B1: constant(uint256) = 976_098_551_737_776_693_220_000_000_000  # 976.09855173777669322
B2: constant(uint256) = 10_260_932_208_618_978_205_000_000_000_000  # 10260.932208618978205
B3: constant(uint256) = 45_507_789_335_026_729_956_000_000_000_000  # 45507.789335026729956
C0: constant(uint256) = 398_941_512_088_134_667_640_000_000  # 0.39894151208813466764
C1: constant(uint256) = 8_883_149_794_388_375_941_200_000_000  # 8.8831497943883759412
C2: constant(uint256) = 93_506_656_132_177_855_979_000_000_000  # 93.506656132177855979
C3: constant(uint256) = 597_270_276_394_800_262_260_000_000_000  # 597.27027639480026226
C4: constant(uint256) = 2_494_537_585_290_372_671_100_000_000_000  # 2494.5375852903726711
C5: constant(uint256) = 6_848_190_450_536_282_332_600_000_000_000  # 6848.1904505362823326
C6: constant(uint256) = 11_602_651_437_647_350_124_000_000_000_000  # 11602.651437647350124
C7: constant(uint256) = 9_842_714_838_383_978_021_800_000_000_000  # 9842.7148383839780218
C8: constant(uint256) = 10_765_576_773_720_192_317  # 1.0765576773720192317e-8
D0: constant(uint256) = 22_266_688_044_328_115_691_000_000_000  # 22.266688044328115691
D1: constant(uint256) = 235_387_901_782_624_998_610_000_000_000  # 235.38790178262499861
D2: constant(uint256) = 1_519_377_599_407_554_805_000_000_000_000  # 1519.377599407554805
D3: constant(uint256) = 6_485_558_298_266_760_755_000_000_000_000  # 6485.558298266760755
D4: constant(uint256) = 18_615_571_640_885_098_091_000_000_000_000  # 18615.571640885098091
D5: constant(uint256) = 34_900_952_721_145_977_266_000_000_000_000  # 34900.952721145977266
D6: constant(uint256) = 38_912_003_286_093_271_411_000_000_000_000  # 38912.003286093271411
D7: constant(uint256) = 19_685_429_676_859_990_727_000_000_000_000  # 19685.429676859990727
P0: constant(uint256) = 215_898_534_057_956_990_000_000_000  # 0.21589853405795699
P1: constant(uint256) = 127_401_161_160_247_363_900_000_000  # 0.1274011611602473639
P2: constant(uint256) = 22_235_277_870_649_807_000_000_000  # 0.022235277870649807
P3: constant(uint256) = 1_421_619_193_227_893_466_000_000  # 0.001421619193227893466
P4: constant(uint256) = 29_112_874_951_168_792_000_000  # 2.9112874951168792e-5
P5: constant(uint256) = 23_073_441_764_940_173_030_000_000  # 0.02307344176494017303
Q0: constant(uint256) = 1_284_260_096_144_911_210_000_000_000  # 1.28426009614491121
Q1: constant(uint256) = 468_238_212_480_865_118_000_000_000  # 0.468238212480865118
Q2: constant(uint256) = 65_988_137_868_928_551_500_000_000  # 0.0659881378689285515
Q3: constant(uint256) = 3_782_396_332_027_582_440_000_000  # 0.00378239633202758244
Q4: constant(uint256) = 72_975_155_508_396_620_500_000  # 7.29751555083966205e-5


@internal
@pure
def _gauss_e36(z: uint256) -> uint256:
    """
    @dev exp(-z^2 / 2) in E36 for a WAD z < 13 (callers check the bound).
         z^2/2 is exact in E36; see `_exp_e36` for the precision.
    """
    # z < 13e18: z*z < 1.7e38.
    return expln._exp_e36(-convert(unsafe_div(unsafe_mul(z, z), 2), int256))


@internal
@pure
def _gauss_of(x: int256) -> uint256:
    """
    @dev exp(-x^2 / 2) in E36 for any WAD x; 0 once |x| >= 13 (where the
         value is below 1e-36). This is sqrt(2 pi) * pdf(x).
    """
    z: uint256 = convert(abs(x), uint256)
    if z >= Z_MAX:
        return 0
    return self._gauss_e36(z)


@internal
@pure
def _pdf_e36(x: int256) -> uint256:
    """
    @dev Standard normal density phi(x) in E36, truncated. Gas: ~950.
    """
    return unsafe_div(unsafe_mul(self._gauss_of(x), INV_SQRT_2PI_E36), c.E36)


@internal
@pure
def _lower_tail_e36(z: uint256, g: uint256) -> uint256:
    """
    @dev Phi(-z) in E36 for a WAD z >= 0, given g = exp(-z^2/2) in E36 (only
         read when z > 0.66291, so callers may pass 0 below that). Sharing g
         lets Black-76 compute one exponential for both d1 and d2.
    @param z The WAD distance below the mean, z >= 0.
    @param g exp(-z^2/2) in E36, as `_gauss_e36(z)` returns it.
    @return uint256 Phi(-z) in E36, truncated.
    """
    if z >= Z_MAX:
        return 0
    # z < 13e18 everywhere below; E27 polynomial values stay < 1e34.
    if z <= THRSH:
        y: uint256 = unsafe_mul(z, 10 ** 9)  # E27
        ysq: uint256 = unsafe_div(unsafe_mul(y, y), c.E27)
        # Horner's rule as one expression each (stack, not memory); every
        # intermediate < 1e67.
        num: uint256 = unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(A4, ysq), c.E27), A0), ysq), c.E27), A1), ysq), c.E27), A2), ysq), c.E27)
        den: uint256 = unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(ysq, B0), ysq), c.E27), B1), ysq), c.E27), B2), ysq), c.E27)
        # z * A/B in E36: y (E27) * num (< 2e31) * 1e9 < 1e68.
        t: uint256 = unsafe_div(unsafe_mul(unsafe_mul(y, unsafe_add(num, A3)), 10 ** 9), unsafe_add(den, B3))
        return unsafe_sub(c.E36 // 2, t)  # t <= 0.25e36
    ratio: uint256 = 0
    if z <= ROOT32:
        y: uint256 = unsafe_mul(z, 10 ** 9)  # E27, < 5.7e27
        num: uint256 = unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(C8, y), c.E27), C0), y), c.E27), C1), y), c.E27), C2), y), c.E27), C3), y), c.E27), C4), y), c.E27), C5), y), c.E27), C6), y), c.E27)
        den: uint256 = unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(y, D0), y), c.E27), D1), y), c.E27), D2), y), c.E27), D3), y), c.E27), D4), y), c.E27), D5), y), c.E27), D6), y), c.E27)
        # num < 1e34, so num * 1e36 < 1e70.
        ratio = unsafe_div(unsafe_mul(unsafe_add(num, C7), c.E36), unsafe_add(den, D7))
    else:
        # 1/z^2 in E27 (z in (5.66, 13)): 1e63 / z^2 with z^2 in E36.
        zi2: uint256 = unsafe_div(10 ** 63, unsafe_mul(z, z))
        num: uint256 = unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(P5, zi2), c.E27), P0), zi2), c.E27), P1), zi2), c.E27), P2), zi2), c.E27), P3), zi2), c.E27)
        den: uint256 = unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(unsafe_div(unsafe_mul(unsafe_add(zi2, Q0), zi2), c.E27), Q1), zi2), c.E27), Q2), zi2), c.E27), Q3), zi2), c.E27)
        # t = zi2 * P/Q in E27 (< 0.01e27).
        t: uint256 = unsafe_div(unsafe_mul(zi2, unsafe_add(num, P4)), unsafe_add(den, Q4))
        # (1/sqrt(2 pi) - t) / z in E36: E27 * 1e27 / WAD.
        ratio = unsafe_div(unsafe_mul(unsafe_sub(INV_SQRT_2PI_E27, t), c.E27), z)
    # g <= 1e36 and ratio < 0.5e36: product < 1e72.
    return unsafe_div(unsafe_mul(g, ratio), c.E36)


@internal
@pure
def _cdf_given_gauss(x: int256, g: uint256) -> uint256:
    """
    @dev Phi(x) in E36, given g = exp(-x^2/2) in E36 (see `_lower_tail_e36`).
         The tail on the far side of the mean is computed directly and the
         near side as its complement, so both keep full relative precision
         where it matters.
    """
    tail: uint256 = self._lower_tail_e36(convert(abs(x), uint256), g)
    if x < 0:
        return tail
    return unsafe_sub(c.E36, tail)


@internal
@pure
def _cdf_e36(x: int256) -> uint256:
    """
    @dev Standard normal CDF Phi(x) in E36 for a WAD x. Absolute error
         < 1e-17, relative error < 1e-15 where Phi(x) >= 1e-21 (below
         that the 1e-36 unit itself dominates). Gas: ~400
         for |x| <= 0.66291, ~1,700 beyond.
    @param x The WAD argument (any int256 except min_value).
    @return uint256 Phi(x) * 1e36, truncated.
    """
    z: uint256 = convert(abs(x), uint256)
    g: uint256 = 0
    if z > THRSH and z < Z_MAX:
        g = self._gauss_e36(z)
    return self._cdf_given_gauss(x, g)
