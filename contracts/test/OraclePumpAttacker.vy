# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Same-block flash-pump attacker (tests and lab only)
@custom:contract-name OraclePumpAttacker
@license GNU Affero General Public License v3.0 only
@notice bZx 2020 in one transaction: flash-borrow USD, buy WETH on the
        pool (pumping its spot price), read what the protocol's oracle says
        at the pumped price, sell the WETH back, repay. Records what it saw
        so tests and the lab can assert that nothing read the pump:
        `spot_pumped`, `oracle_price_pumped`, `oracle_status_pumped`,
        `twap_pumped`. Fees come from its own pre-funded USD balance.
        Reentrancy guards are off on purpose: the lender calls back into it.
"""

from ethereum.ercs import IERC20

from ..market import IERC3156FlashBorrower
from ..market import IERC3156FlashLender
from ..market import ISpotPool
from ..oracle import ITwapOracle
implements: IERC3156FlashBorrower

interface IProtocolOracle:
    def price() -> (uint256, uint256): view
    def twap_window() -> uint256: view

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")

LENDER: public(immutable(IERC3156FlashLender))
POOL: public(immutable(ISpotPool))
ORACLE: public(immutable(IProtocolOracle))
TWAP: public(immutable(ITwapOracle))

spot_before: public(uint256)
spot_pumped: public(uint256)
spot_after: public(uint256)
oracle_price_pumped: public(uint256)
oracle_status_pumped: public(uint256)
twap_pumped: public(uint256)


@deploy
def __init__(lender: IERC3156FlashLender, pool: ISpotPool, oracle: IProtocolOracle, twap: ITwapOracle):
    LENDER = lender
    POOL = pool
    ORACLE = oracle
    TWAP = twap


@external
def attack(usd: address, amount: uint256):
    """
    @notice Borrow `amount` USD, pump, observe, dump, repay.
    """
    self.spot_before = staticcall POOL.spot_price()
    extcall LENDER.flashLoan(self, usd, amount, b"")
    self.spot_after = staticcall POOL.spot_price()


@external
def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    assert msg.sender == LENDER.address, "attacker: not lender"
    weth: address = staticcall POOL.token0()
    extcall IERC20(token).approve(POOL.address, amount)
    got: uint256 = extcall POOL.swap_exact_in(token, amount, 0, self)
    self.spot_pumped = staticcall POOL.spot_price()
    p: uint256 = 0
    s: uint256 = 0
    p, s = staticcall ORACLE.price()
    self.oracle_price_pumped = p
    self.oracle_status_pumped = s
    ok: bool = False
    t: uint256 = 0
    ok, t = staticcall TWAP.try_twap(staticcall ORACLE.twap_window())
    self.twap_pumped = t
    extcall IERC20(weth).approve(POOL.address, got)
    extcall POOL.swap_exact_in(weth, got, 0, self)
    extcall IERC20(token).approve(LENDER.address, amount + fee)
    return CALLBACK_SUCCESS
