"""OptionToken minting rights and transfers; the vault's dust limit and write/collect guards."""

import ape

from dsi.reference import options as ref

WAD = 10**18
ZERO = "0x" + "00" * 20


def test_only_minters_mint_and_burn(protocol, opts, expect_revert):
    token, d, attacker = protocol.option_token, protocol.deployer, protocol.attacker
    id_ = opts.list(3000, is_call=True)
    opts.write(protocol.writer, id_, WAD)
    expect_revert("option: not minter", token.mint, attacker, id_, WAD, sender=attacker)
    expect_revert("option: not minter", token.burn, protocol.writer, id_, WAD, sender=attacker)
    # The owner is not a minter either until it grants itself the role.
    expect_revert("option: not minter", token.mint, attacker, id_, WAD, sender=d)
    expect_revert("ownable: caller is not the owner", token.set_minter, attacker, True, sender=attacker)
    expect_revert("option: zero address", token.set_minter, ZERO, True, sender=d)
    # Holders cannot burn their own longs (that would orphan a short): no public burn.
    assert not hasattr(token, "burn_batch") and not hasattr(token, "safe_mint")
    tx = token.set_minter(attacker, True, sender=d)
    assert [(log.minter, log.status) for log in tx.decode_logs(token.MinterSet)] == [(attacker.address, True)]
    expect_revert("option: zero amount", token.mint, attacker, id_, 0, sender=attacker)
    token.mint(attacker, id_, 5, sender=attacker)
    assert token.total_supply(id_) == WAD + 5
    token.set_minter(attacker, False, sender=d)
    expect_revert("option: not minter", token.mint, attacker, id_, 1, sender=attacker)
    assert token.balanceOf(protocol.writer, id_) == WAD


def test_longs_transfer_like_erc1155(protocol, opts, second_buyer):
    token, writer, buyer = protocol.option_token, protocol.writer, protocol.buyer
    call = opts.list(3000, is_call=True)
    put = opts.list(3000, is_call=False)
    opts.write(writer, call, 2 * WAD)
    opts.write(writer, put, WAD)
    token.safeBatchTransferFrom(writer, buyer, [call, put], [WAD, WAD // 2], b"", sender=writer)
    assert token.balanceOfBatch([writer, writer, buyer, buyer], [call, put, call, put]) == [
        WAD, WAD // 2, WAD, WAD // 2]
    token.setApprovalForAll(second_buyer, True, sender=buyer)
    token.safeTransferFrom(buyer, second_buyer, call, WAD, b"", sender=second_buyer)
    assert token.balanceOf(second_buyer, call) == WAD
    assert (token.total_supply(call), token.total_supply(put)) == (2 * WAD, WAD)
    assert token.exists(call) and not token.exists(99)
    assert token.uri(call) == f"dsi://options/{call}"
    assert token.supportsInterface(bytes.fromhex("d9b67a26"))  # ERC-1155


def test_min_size_is_enforced_on_write(protocol, opts, expect_revert):
    vault, writer = protocol.vault, protocol.writer
    id_ = opts.list(3000, is_call=True)
    min_size = protocol.series.min_size()
    assert min_size == WAD // 100  # 0.01 option
    opts.fund(writer, id_, min_size)
    expect_revert("vault: below min size", vault.write, id_, min_size - 1, sender=writer)
    assert vault.write(id_, min_size, sender=writer).return_value == min_size
    assert vault.written(id_, writer) == min_size
    # The owner raises the dust limit: the same size is now refused.
    protocol.series.set_parameters(365 * 86_400, WAD // 5, 5 * WAD, WAD // 10, sender=protocol.deployer)
    opts.fund(writer, id_, min_size)
    expect_revert("vault: below min size", vault.write, id_, min_size, sender=writer)
    # Closing a position smaller than the limit in full is still allowed.
    vault.close(id_, min_size, sender=writer)
    assert protocol.weth.balanceOf(writer) == 2 * min_size  # the unused funding and the unlock


def test_put_dust_lock_rounds_up(protocol, opts):
    """The smallest put at an odd strike locks ceil(K * amount / 1e30) USD."""
    strike = 2_999_123_456_789_123_456_789
    id_ = opts.list(strike, is_call=False)
    amount = WAD // 100 + 1
    lock = opts.write(protocol.writer, id_, amount)
    assert lock == ref.lock_units(strike, False, amount) == strike * amount // 10**30 + 1
    assert protocol.vault.usd_held() == lock


def test_write_and_collect_revert_reasons(protocol, opts, expect_revert):
    vault, writer = protocol.vault, protocol.writer
    id_ = opts.list(3000, is_call=False)
    expect_revert("vault: unknown series", vault.write, 99, WAD, sender=writer)
    expect_revert("vault: transfer failed", vault.write, id_, WAD, sender=writer)  # nothing approved
    expect_revert("vault: nothing to collect", vault.collect, id_, sender=writer)
    expect_revert("vault: unknown series", vault.close, 99, WAD, sender=writer)
    expect_revert("vault: unknown series", vault.settle_writer, 99, sender=writer)
    expect_revert("series: not expired", vault.settle_writer, id_, sender=writer)
    opts.fund(writer, id_, WAD)
    opts.expire(id_)
    expect_revert("vault: expired", vault.write, id_, WAD, sender=writer)


def test_constructors_reject_zero_addresses(project, protocol, chain):
    """Deployment dry-runs (undone, whatever happens): each constructor names its zero address."""
    p = protocol

    def reverts(container, *args, reason):
        with chain.isolate(), ape.reverts(reason):
            container.deploy(*args, sender=p.deployer)

    reverts(project.OptionsVault, ZERO, reason="vault: zero address")
    params = (365 * 86_400, WAD // 5, 5 * WAD)  # max tenor, strike band
    good = [p.oracle.address, p.option_token.address, p.weth.address, p.usd.address]
    for i in range(4):
        bad = list(good)
        bad[i] = ZERO
        reverts(project.OptionSeries, *bad, *params, WAD // 100, reason="series: zero address")
    reverts(project.OptionSeries, *good, *params, 0, reason="series: min size out of bounds")
