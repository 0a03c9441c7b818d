# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI collateral token
@custom:contract-name CollateralToken
@license GNU Affero General Public License v3.0 only
@notice A plain ERC-20 (+ EIP-2612 permit) used as collateral and as the
        two legs of the spot market in the lab: deployed once as the USD
        stablecoin ("dUSD", 6 decimals) and once as WETH (18 decimals).

        All token logic is snekmate's `erc20` module. Minting is gated by
        snekmate's minter role: the deployer is owner and minter; the owner
        grants or revokes other minters with `set_minter`. Anyone may burn
        their own tokens (`burn`) or an approved amount (`burn_from`).
        Transferring ownership moves the owner's minter role with it.

        The token has no transfer hooks, no fee on transfer and no rebasing:
        the market contracts rely on `transfer`/`transferFrom` moving exactly
        the amount asked for.
"""

# @dev Owner role; the erc20 module's `set_minter` checks it.
from snekmate.auth import ownable
initializes: ownable

# @dev The token itself: balances, allowances, permit and the minter role.
from snekmate.tokens import erc20
initializes: erc20[ownable := ownable]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @notice The deployer becomes owner and the first minter. The EIP-712
            signing domain is (`name_`, "1").
    @param name_ Token name, at most 25 characters.
    @param symbol_ Token symbol, at most 5 characters.
    @param decimals_ Decimal places (6 for dUSD, 18 for WETH); at most 18.
    """
    assert decimals_ <= 18, "token: decimals above 18"
    ownable.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")
