# pragma version ~=0.4.3
"""
@title DSI risk calculator: marks and scenario values on the skew
@custom:contract-name RiskCalculator
@license GNU Affero General Public License v3.0 only
@notice The stateless, deployable face of `math/risk.vy` that the margin
        engine calls: option marks on the SVI skew, the standard-margin
        requirement per short, and an option's value in each of the 33
        portfolio scenarios. A separate contract because the pricing
        library and the engine's accounting do not fit in one 24 KB
        contract. `RiskArrays` calls `scenario_values` to fill its cached
        per-series arrays and for the live fallback.
"""

from ..math import risk
from ..math import svi


@external
@pure
def mark(spot: uint256, strike: uint256, tte: uint256, p: svi.Params, is_call: bool, roundup: bool) -> uint256:
    """
    @notice Black-76 (r = 0) at the skew vol of slice `p`, WAD USD per
            option; intrinsic at tte == 0. Rounded up when `roundup`.
    """
    if tte == 0:
        return risk._price_at(spot, strike, 0, 0, p, is_call, roundup)
    return risk._mark(spot, strike, tte, p, is_call, roundup)


@external
@pure
def standard_requirement(spot: uint256, strike: uint256, mark: uint256, is_call: bool, sp: risk.StandardParams) -> uint256:
    """
    @notice Per short option: mark + max(a - OTM%, b) * spot (puts capped at
            the strike), WAD USD, rounded up.
    """
    return risk._standard_requirement(spot, strike, mark, is_call, sp)


@external
@pure
def scenario_values(spot: uint256, strike: uint256, tte: uint256, p: svi.Params, is_call: bool, pp: risk.PortfolioParams) -> uint256[risk.NUM_SCENARIOS]:
    """
    @notice The option's value (WAD USD, rounded down) in each of the 33
            portfolio scenarios (order documented in `math/risk.vy`).
    """
    return risk._scenario_values(spot, strike, tte, p, is_call, pp)


@external
@pure
def appraise(spot: uint256, strike: uint256, tte: uint256, p: svi.Params, is_call: bool, short: bool, im: risk.StandardParams, mm: risk.StandardParams) -> (uint256, uint256, uint256):
    """
    @notice One call per position for the margin engine: the mark (as
            `mark`, rounded up for a short) and, for a short, the initial
            and maintenance standard requirements per option (as
            `standard_requirement` with `im` and `mm`); zeros for a long.
    """
    mark: uint256 = 0
    if tte == 0:
        mark = risk._price_at(spot, strike, 0, 0, p, is_call, short)
    else:
        mark = risk._mark(spot, strike, tte, p, is_call, short)
    if not short:
        return mark, 0, 0
    return mark, risk._standard_requirement(spot, strike, mark, is_call, im), risk._standard_requirement(spot, strike, mark, is_call, mm)
