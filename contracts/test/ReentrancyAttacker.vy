# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Reentrancy attacker (tests only)
@custom:contract-name ReentrancyAttacker
@license GNU Affero General Public License v3.0 only
@notice A contract account that holds USD, WETH and option tokens and is
        the msg.sender of the outer calls (`execute`, owner only), armed
        by the test with ONE re-entrant call: a target and raw calldata,
        fired from inside the hook named by `arm` (1 onERC1155Received,
        2 onERC1155BatchReceived, 3 onFlashLoan). The hook performs the
        call with `raw_call(..., revert_on_failure=False)`, records whether
        it succeeded and what it returned (the revert data on failure),
        disarms itself (one shot) and returns the correct magic value, so
        the outer call itself proceeds. `onFlashLoan` repays amount + fee
        (approve; the lender pulls). `multicall` runs a sequence (inside a
        hook: arm the hook with a call to this contract's `multicall`).
        Reentrancy guards are off on purpose:
        every hook is entered from inside another contract's call.
        Not for deployment outside the lab.
"""

from ethereum.ercs import IERC20

from ..market import IERC3156FlashBorrower
from ..market import IERC3156FlashLender
implements: IERC3156FlashBorrower

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")
ERC1155_RECEIVED: constant(bytes4) = 0xf23a6e61
ERC1155_BATCH_RECEIVED: constant(bytes4) = 0xbc197c81
MAX_CALLDATA: constant(uint256) = 4_096
MAX_RETURN: constant(uint256) = 1_024

HOOK_NONE: constant(uint256) = 0
HOOK_RECEIVED: constant(uint256) = 1
HOOK_BATCH_RECEIVED: constant(uint256) = 2
HOOK_FLASH_LOAN: constant(uint256) = 3

owner: public(address)

# The armed re-entry (one shot).
armed_hook: public(uint256)
armed_target: public(address)
armed_data: public(Bytes[MAX_CALLDATA])

# What the last fired re-entry did.
fired: public(bool)
fired_hook: public(uint256)
reentry_ok: public(bool)
reentry_return: public(Bytes[MAX_RETURN])

# What the hooks saw.
received_calls: public(uint256)
flash_loans: public(uint256)
last_lender: address


@deploy
def __init__():
    self.owner = msg.sender


@internal
def _check_caller():
    assert msg.sender == self.owner or msg.sender == self, "attacker: not owner"


@external
def arm(hook: uint256, target: address, data: Bytes[MAX_CALLDATA]):
    """
    @notice Owner only: the next entry of hook `hook` calls `target` with
            `data`. `hook` 0 disarms. Clears the record of the last re-entry.
    """
    self._check_caller()
    assert hook <= HOOK_FLASH_LOAN, "attacker: unknown hook"
    self.armed_hook = hook
    self.armed_target = target
    self.armed_data = data
    self.fired = False
    self.fired_hook = HOOK_NONE
    self.reentry_ok = False
    self.reentry_return = b""


@external
def execute(target: address, data: Bytes[MAX_CALLDATA]) -> Bytes[MAX_RETURN]:
    """
    @notice Owner only: call `target` with `data` as this contract; a
            revert is propagated with its reason.
    """
    self._check_caller()
    return raw_call(target, data, max_outsize=MAX_RETURN)


@external
def multicall(targets: DynArray[address, 8], datas: DynArray[Bytes[MAX_CALLDATA], 8]):
    """
    @notice Owner or this contract (an armed re-entry may target `multicall`
            to run a sequence inside one hook): call each target in order; the
            first revert is propagated with its reason.
    """
    self._check_caller()
    assert len(targets) == len(datas), "attacker: length mismatch"
    for i: uint256 in range(len(targets), bound=8):
        raw_call(targets[i], datas[i])


@external
def flash(lender: address, token: address, amount: uint256):
    """
    @notice Owner only: flash-borrow `amount` of `token` from `lender`
            (ERC-3156); `onFlashLoan` fires the armed re-entry and repays.
    """
    self._check_caller()
    self.last_lender = lender
    extcall IERC3156FlashLender(lender).flashLoan(self, token, amount, b"")


@internal
def _fire(hook: uint256):
    if self.armed_hook != hook:
        return
    self.armed_hook = HOOK_NONE  # one shot: a nested hook does not fire again
    ok: bool = False
    response: Bytes[MAX_RETURN] = b""
    ok, response = raw_call(self.armed_target, self.armed_data, max_outsize=MAX_RETURN, revert_on_failure=False)
    self.fired = True
    self.fired_hook = hook
    self.reentry_ok = ok
    self.reentry_return = response


@external
def onERC1155Received(operator: address, sender: address, id: uint256, amount: uint256, data: Bytes[1024]) -> bytes4:
    self.received_calls += 1
    self._fire(HOOK_RECEIVED)
    return ERC1155_RECEIVED


@external
def onERC1155BatchReceived(operator: address, sender: address, ids: DynArray[uint256, 128],
                           amounts: DynArray[uint256, 128], data: Bytes[1024]) -> bytes4:
    self.received_calls += 1
    self._fire(HOOK_BATCH_RECEIVED)
    return ERC1155_BATCH_RECEIVED


@external
def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    assert msg.sender == self.last_lender, "attacker: untrusted lender"
    assert initiator == self, "attacker: untrusted initiator"
    self.flash_loans += 1
    self._fire(HOOK_FLASH_LOAN)
    assert extcall IERC20(token).approve(msg.sender, amount + fee, default_return_value=True), "attacker: approve"
    return CALLBACK_SUCCESS


@view
@external
def supportsInterface(interface_id: bytes4) -> bool:
    # ERC-165 and ERC1155TokenReceiver.
    return interface_id == 0x01ffc9a7 or interface_id == 0x4e2312e0
