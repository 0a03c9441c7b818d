# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title DSI option token (ERC-1155 longs)
@custom:contract-name OptionToken
@license GNU Affero General Public License v3.0 only
@notice One ERC-1155 id per option series (the id `OptionSeries` assigns);
        a balance is a long position in WAD option units (1e18 = one
        option on 1 WETH). Longs are freely transferable.

        Supply follows the shorts exactly: only minters mint and burn, and
        the minters are the contracts that hold the matching short side or
        settle it:
        - the options vault mints on `write` and burns on `close` and
          American `exercise`;
        - the margin engine (next issue) mints and burns its own shorts;
        - `OptionSeries` burns on `redeem` after settlement.
        The owner sets minters (`set_minter`) and is not one itself: the
        owner cannot create unbacked longs. Holders cannot burn their own
        tokens either (snekmate's public `burn` is not exported): a burn
        outside the contracts above would leave a short with no long and
        break "total supply at settlement == what the shorts owe".
        A minter burns from `owner` without the owner's approval: minters
        only burn the caller's own tokens in their own flows.

        Token logic is snekmate's `erc1155` module; its own minter role
        (`erc1155.is_minter`, where the deployer is a minter) is not
        exported and not used.
"""

# @dev Owner role: manages the minters.
from snekmate.auth import ownable
initializes: ownable

# @dev Balances, transfers, approvals, per-id total supply and the URI.
from snekmate.tokens import erc1155
initializes: erc1155[ownable := ownable]

exports: (
    erc1155.safeTransferFrom,
    erc1155.safeBatchTransferFrom,
    erc1155.balanceOf,
    erc1155.balanceOfBatch,
    erc1155.setApprovalForAll,
    erc1155.isApprovedForAll,
    erc1155.supportsInterface,
    erc1155.uri,
    erc1155.total_supply,
    erc1155.exists,
    ownable.owner,
    ownable.transfer_ownership,
)


# The option minters (vault, margin engine, OptionSeries); not erc1155.is_minter.
is_minter: public(HashMap[address, bool])


event MinterSet:
    minter: indexed(address)
    status: bool


@deploy
def __init__(base_uri_: String[80]):
    """
    @notice The deployer becomes owner; no minter is set.
    @param base_uri_ Base URI; `uri(id)` is `base_uri_` followed by the id.
    """
    ownable.__init__()
    erc1155.__init__(base_uri_)


@external
def set_minter(minter: address, status: bool):
    """
    @notice Owner only: grant or revoke the minter role.
    """
    ownable._check_owner()
    assert minter != empty(address), "option: zero address"
    self.is_minter[minter] = status
    log MinterSet(minter=minter, status=status)


@external
def mint(to: address, id: uint256, amount: uint256):
    """
    @notice Minter only: mint `amount` (WAD option units) of series `id`
            to `to`. Calls `onERC1155Received` when `to` is a contract.
    """
    assert self.is_minter[msg.sender], "option: not minter"
    assert amount != 0, "option: zero amount"
    erc1155._safe_mint(to, id, amount, b"")


@external
def burn(owner: address, id: uint256, amount: uint256):
    """
    @notice Minter only: burn `amount` (WAD option units) of series `id`
            from `owner`. Reverts if `owner` holds less.
    """
    assert self.is_minter[msg.sender], "option: not minter"
    assert amount != 0, "option: zero amount"
    erc1155._burn(owner, id, amount)
