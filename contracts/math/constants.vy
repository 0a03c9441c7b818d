# pragma version ~=0.4.3
"""
@title DSI shared constants
@custom:contract-name constants
@license GNU Affero General Public License v3.0 only
@notice Fixed-point units and the documented input domain of the pricing
        library. WAD (1e18) for prices, vols, rates and ratios; E27 for the
        rational approximations' internal arithmetic; E36 for probabilities,
        so that a tail probability of 1e-10 still carries 26 digits.
"""

WAD: constant(uint256) = 10 ** 18
E27: constant(uint256) = 10 ** 27
E36: constant(uint256) = 10 ** 36
IWAD: constant(int256) = 10 ** 18

# @dev A year is 365 days, as Deribit counts.
YEAR: constant(uint256) = 31_536_000

# @dev Documented input domain of the pricer (a revert outside it, never a
# silently wrong number).
# @dev 1e15 USD per unit: with strike <= 1000 x spot and a discount factor up
# to e^10, K * DF * 1e36 stays below 2^256 in the E36 * WAD price arithmetic.
SPOT_MAX: constant(uint256) = 10 ** 33
MONEYNESS_BAND: constant(uint256) = 1_000  # 1/1000 <= strike / spot <= 1000
VOL_MAX: constant(uint256) = 10 * 10 ** 18  # 1,000% annualised
TTE_MAX: constant(uint256) = 10 * YEAR  # ten years
RATE_MAX: constant(int256) = 10 ** 18  # |rate| <= 100% continuously compounded
