# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Flash borrower mock (tests only)
@custom:contract-name FlashBorrowerMock
@license GNU Affero General Public License v3.0 only
@notice An ERC-3156 borrower whose behaviour in `onFlashLoan` is chosen per
        loan, to drive `FlashLender` and `SpotPool` tests:
        - REPAY: approves `amount + fee` and returns the magic value;
        - NO_REPAY: returns the magic value but approves nothing;
        - WRONG_HASH: approves but returns a wrong value;
        - PUMP_AND_DUMP: sells the whole loan into the pool, records the
          pumped spot price, sells everything it received back, then
          repays (a same-transaction price manipulation; the swap and flash
          fees come out of the mock's own pre-funded balance).
        Not for deployment outside the lab. Reentrancy guards are off on
        purpose: `borrow` is re-entered by the lender's `onFlashLoan` call.
"""

from ethereum.ercs import IERC20

from ..market import IERC3156FlashBorrower
from ..market import IERC3156FlashLender
from ..market import ISpotPool
implements: IERC3156FlashBorrower


CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")


flag Mode:
    REPAY
    NO_REPAY
    WRONG_HASH
    PUMP_AND_DUMP


LENDER: public(immutable(address))
POOL: public(immutable(address))


mode: Mode
# @dev What the last callback saw, for assertions.
last_amount: public(uint256)
last_fee: public(uint256)
last_initiator: public(address)
price_before: public(uint256)
price_pumped: public(uint256)
price_after: public(uint256)


@deploy
def __init__(lender: address, pool: address):
    LENDER = lender
    POOL = pool


@external
def borrow(token: address, amount: uint256, mode: uint256) -> bool:
    """
    @param mode 0 REPAY, 1 NO_REPAY, 2 WRONG_HASH, 3 PUMP_AND_DUMP.
    """
    assert mode < 4, "borrower: unknown mode"
    self.mode = convert(1 << mode, Mode)
    return extcall IERC3156FlashLender(LENDER).flashLoan(self, token, amount, b"")


@external
def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    assert msg.sender == LENDER, "borrower: untrusted lender"
    assert initiator == self, "borrower: untrusted initiator"
    self.last_amount = amount
    self.last_fee = fee
    self.last_initiator = initiator

    mode: Mode = self.mode
    if mode == Mode.PUMP_AND_DUMP:
        self._pump_and_dump(token, amount)

    if mode != Mode.NO_REPAY:
        extcall IERC20(token).approve(LENDER, amount + fee)

    if mode == Mode.WRONG_HASH:
        return keccak256("not the magic value")
    return CALLBACK_SUCCESS


@internal
def _pump_and_dump(token: address, amount: uint256):
    other: address = staticcall ISpotPool(POOL).token0()
    if other == token:
        other = staticcall ISpotPool(POOL).token1()
    self.price_before = staticcall ISpotPool(POOL).spot_price()

    extcall IERC20(token).approve(POOL, amount)
    bought: uint256 = extcall ISpotPool(POOL).swap_exact_in(token, amount, 0, self)
    self.price_pumped = staticcall ISpotPool(POOL).spot_price()

    extcall IERC20(other).approve(POOL, bought)
    extcall ISpotPool(POOL).swap_exact_in(other, bought, 0, self)
    self.price_after = staticcall ISpotPool(POOL).spot_price()
