# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI flash lender (ERC-3156)
@custom:contract-name FlashLender
@license GNU Affero General Public License v3.0 only
@notice The lab's source of free capital for attackers: an ERC-3156 lender
        (https://eips.ethereum.org/EIPS/eip-3156) of a fixed set of tokens
        (WETH and the USD stablecoin), fixed at deployment.

        Accounting
        - `liquidity[token]` is what the lender may lend: deposits (anyone,
          `deposit`) plus fees earned, minus owner withdrawals. It is kept
          here, not read from `balanceOf(self)`, so tokens sent by plain
          `transfer` are neither lent nor counted.
        - `maxFlashLoan(token)` = `liquidity[token]` (0 if unsupported).
        - `flashFee(token, amount)` = ceil(amount * fee_bps / 10,000): the
          fee rounds up, in the lender's favour. fee_bps defaults to 5 and
          the owner may set it up to MAX_FEE_BPS (1%).
        - `flashLoan` sends `amount` to the receiver, calls its
          `onFlashLoan`, requires the ERC-3156 magic value back, then pulls
          `amount + fee` with `transferFrom` (the receiver must approve it).
          The fee is added to `liquidity` and to `fees_earned`.

        Flash loans are not nested: the whole contract is non-reentrant, so
        during a loan even the views revert (a view read mid-loan would
        report liquidity that is out on loan).
"""

from ethereum.ercs import IERC20

from . import IERC3156FlashBorrower
from . import IERC3156FlashLender
implements: IERC3156FlashLender

# @dev Owner role: sets the fee within its bound and withdraws liquidity.
from snekmate.auth import ownable
initializes: ownable

# @dev Stateless: `_ceil_div` for the fee.
from snekmate.utils import math

exports: (
    ownable.owner,
    ownable.transfer_ownership,
    ownable.renounce_ownership,
)


BPS: constant(uint256) = 10_000
DEFAULT_FEE_BPS: constant(uint256) = 5
MAX_FEE_BPS: constant(uint256) = 100
MAX_TOKENS: constant(uint256) = 8
MAX_DATA: constant(uint256) = 1024
CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")


fee_bps: public(uint256)
supported: public(HashMap[address, bool])
liquidity: public(HashMap[address, uint256])
fees_earned: public(HashMap[address, uint256])


event Deposit:
    token: indexed(address)
    sender: indexed(address)
    amount: uint256

event Withdraw:
    token: indexed(address)
    receiver: indexed(address)
    amount: uint256

event FlashLoan:
    receiver: indexed(address)
    token: indexed(address)
    initiator: indexed(address)
    amount: uint256
    fee: uint256

event FeeUpdated:
    old_fee_bps: uint256
    new_fee_bps: uint256


@deploy
def __init__(tokens: DynArray[address, MAX_TOKENS]):
    """
    @param tokens The tokens this lender lends (fixed for its lifetime).
    """
    assert len(tokens) != 0, "flash: no tokens"
    ownable.__init__()
    for token: address in tokens:
        assert token != empty(address), "flash: zero address"
        self.supported[token] = True
    self.fee_bps = DEFAULT_FEE_BPS
    log FeeUpdated(old_fee_bps=0, new_fee_bps=DEFAULT_FEE_BPS)


@view
@external
def maxFlashLoan(token: address) -> uint256:
    """
    @notice The most of `token` that can be borrowed now; 0 if unsupported.
    """
    if not self.supported[token]:
        return 0
    return self.liquidity[token]


@view
@external
def flashFee(token: address, amount: uint256) -> uint256:
    """
    @notice ceil(amount * fee_bps / 10,000). Reverts for unsupported tokens.
    """
    assert self.supported[token], "flash: unsupported token"
    return self._fee(amount, self.fee_bps)


@external
def flashLoan(receiver: address, token: address, amount: uint256, data: Bytes[MAX_DATA]) -> bool:
    """
    @notice Lends `amount` of `token` to `receiver` for the duration of its
            `onFlashLoan(msg.sender, token, amount, fee, data)` call, which
            must return keccak256("ERC3156FlashBorrower.onFlashLoan"); then
            pulls back `amount + fee` with `transferFrom`.
    @return bool Always True (failures revert).
    """
    assert self.supported[token], "flash: unsupported token"
    assert amount != 0, "flash: zero amount"
    assert amount <= self.liquidity[token], "flash: amount above max"
    fee: uint256 = self._fee(amount, self.fee_bps)

    assert extcall IERC20(token).transfer(receiver, amount, default_return_value=True), "flash: transfer failed"
    result: bytes32 = extcall IERC3156FlashBorrower(receiver).onFlashLoan(msg.sender, token, amount, fee, data)
    assert result == CALLBACK_SUCCESS, "flash: callback failed"
    self._pull(token, receiver, amount + fee, "flash: repay failed")

    self.liquidity[token] += fee
    self.fees_earned[token] += fee
    log FlashLoan(receiver=receiver, token=token, initiator=msg.sender, amount=amount, fee=fee)
    return True


@external
def deposit(token: address, amount: uint256):
    """
    @notice Adds `amount` of `token` (pulled from the caller) to the
            lendable liquidity. Deposits are not redeemable by the
            depositor: only the owner withdraws.
    """
    assert self.supported[token], "flash: unsupported token"
    assert amount != 0, "flash: zero amount"
    self.liquidity[token] += amount
    self._pull(token, msg.sender, amount, "flash: transfer failed")
    log Deposit(token=token, sender=msg.sender, amount=amount)


@external
def withdraw(token: address, amount: uint256, receiver: address):
    """
    @notice Owner only. Removes `amount` of `token` from the liquidity.
    """
    ownable._check_owner()
    assert receiver != empty(address), "flash: zero address"
    assert amount <= self.liquidity[token], "flash: amount above liquidity"
    self.liquidity[token] -= amount
    assert extcall IERC20(token).transfer(receiver, amount, default_return_value=True), "flash: transfer failed"
    log Withdraw(token=token, receiver=receiver, amount=amount)


@external
def set_fee(new_fee_bps: uint256):
    """
    @notice Owner only. Sets the flash fee, at most MAX_FEE_BPS (1%).
    """
    ownable._check_owner()
    assert new_fee_bps <= MAX_FEE_BPS, "flash: fee above bound"
    log FeeUpdated(old_fee_bps=self.fee_bps, new_fee_bps=new_fee_bps)
    self.fee_bps = new_fee_bps


@internal
def _pull(token: address, sender: address, amount: uint256, reason: String[32]):
    """
    @dev transferFrom `sender` to this contract, reverting with `reason`
         (instead of the token's own message) if the token reverts or
         returns false. Accepts tokens that return nothing.
    """
    success: bool = False
    response: Bytes[32] = b""
    success, response = raw_call(
        token,
        abi_encode(sender, self, amount, method_id=method_id("transferFrom(address,address,uint256)")),
        max_outsize=32,
        revert_on_failure=False,
    )
    if success and len(response) != 0:
        success = convert(response, bool)
    assert success, reason


@internal
@pure
def _fee(amount: uint256, fee_bps: uint256) -> uint256:
    """
    @dev ceil(amount * fee_bps / BPS), rounded up for the lender. Domain:
         amount * fee_bps < 2**256 (any real token supply). Gas ~300.
    """
    return math._ceil_div(amount * fee_bps, BPS)
