"""OptionsVault American exercise: only on a FRESH oracle, paid at the oracle price, assigned pro
rata to the series' vault writers (O(1) shares + accumulator), checked against the exact
rational model in dsi/reference/options.py."""

from dsi.reference import options as ref

WAD = 10**18
K = 3000 * WAD


def _model_vs_chain(protocol, model, id_, writers, tol=3):
    """Each writer's outstanding and free collateral on chain equal the exact model within
    `tol` wei (the contract rounds down what it credits to writers)."""
    for w in writers:
        book = model.book(w)
        assert abs(protocol.vault.written(id_, w) - book.outstanding) <= tol
        assert protocol.vault.written(id_, w) <= book.outstanding
        assert abs(protocol.vault.collectable(id_, w) - book.free) <= tol
        assert protocol.vault.collectable(id_, w) <= book.free
        assert abs(protocol.vault.locked_of(id_, w) - book.locked) <= tol


def test_exercise_assigned_pro_rata_to_two_writers(protocol, opts, second_writer, third_writer):
    writer, buyer, vault = protocol.writer, protocol.buyer, protocol.vault
    id_ = opts.list(3000, is_call=True, american=True)
    model = ref.AssignmentModel(strike=K, is_call=True)
    for w, amount in ((writer, 3 * WAD), (second_writer, WAD)):
        opts.write(w, id_, amount)
        model.write(w, amount)
        opts.give(w, buyer, id_, amount)

    # The feed prints 3,240 (8% above the pool, within the oracle's limits): FRESH at 3,240.
    price = 3_240 * WAD
    opts.fresh(price)
    assert protocol.oracle.price() == (price, 0)
    tx = vault.exercise(id_, 2 * WAD, sender=buyer)
    payout = model.exercise(price, 2 * WAD)
    assert payout == ref.exercise_payout_units(price, K, True, 2 * WAD) == 240 * 2 * WAD // 3_240
    assert [(log.amount, log.price, log.payout, log.freed) for log in tx.decode_logs(vault.Exercised)] == [
        (2 * WAD, price, payout, 2 * WAD - payout)]
    assert protocol.weth.balanceOf(buyer) == payout
    assert protocol.option_token.balanceOf(buyer, id_) == 2 * WAD
    assert vault.total_written(id_) == 2 * WAD
    # Half of everything was exercised: 1.5 of the first writer's 3, 0.5 of the second's 1.
    assert (vault.written(id_, writer), vault.written(id_, second_writer)) == (3 * WAD // 2, WAD // 2)
    _model_vs_chain(protocol, model, id_, (writer, second_writer))
    opts.assert_conserved([id_])

    # A writer joining now is not assigned the past exercise, but shares the next one.
    opts.write(third_writer, id_, WAD)
    model.write(third_writer, WAD)
    opts.give(third_writer, buyer, id_, WAD)
    assert vault.written(id_, third_writer) == WAD
    assert vault.collectable(id_, third_writer) == 0
    price2 = 3_200 * WAD
    opts.fresh(price2)
    payout2 = vault.exercise(id_, WAD + WAD // 2, sender=buyer).return_value
    assert payout2 == model.exercise(price2, WAD + WAD // 2)
    _model_vs_chain(protocol, model, id_, (writer, second_writer, third_writer))
    opts.assert_conserved([id_])

    # The first writer collects what exercises freed, then buys back part of the rest.
    freed = vault.collect(id_, sender=writer).return_value
    assert abs(freed - model.book(writer).free) <= 3
    model.book(writer).free = 0
    before = protocol.weth.balanceOf(writer)
    protocol.option_token.safeTransferFrom(buyer, writer, id_, WAD // 2, b"", sender=buyer)
    vault.close(id_, WAD // 2, sender=writer)
    paid = model.close(writer, WAD // 2)
    assert abs(protocol.weth.balanceOf(writer) - before - paid) <= 3
    opts.assert_conserved([id_])

    # Expiry at the pool's 3,000: out of the money; every writer gets its locked share and
    # free collateral back, and the vault is left with at most rounding dust.
    S, payoff = opts.expire(id_)
    assert payoff == 0
    for w in (writer, second_writer, third_writer):
        before = protocol.weth.balanceOf(w)
        vault.settle_writer(id_, w, sender=protocol.keeper)
        owed, returned = model.settle(w, S)
        assert owed == 0
        assert abs(protocol.weth.balanceOf(w) - before - returned) <= 3
    opts.assert_conserved([id_])
    assert vault.series_collateral(id_) <= 5
    assert vault.shorts(id_).outstanding == vault.shorts(id_).locked == 0


def test_put_exercise_then_settlement_in_the_money(protocol, opts, second_writer):
    """A put exercised early at 2,900, the rest settled in the money at ~2,800."""
    buyer, vault = protocol.buyer, protocol.vault
    strike = 3_100 * WAD
    id_ = opts.list(3_100, is_call=False, american=True)
    model = ref.AssignmentModel(strike=strike, is_call=False)
    for w, amount in ((protocol.writer, 2 * WAD), (second_writer, 3 * WAD)):
        opts.write(w, id_, amount)
        model.write(w, amount)
        opts.give(w, buyer, id_, amount)
    opts.fresh(2_900 * WAD)
    payout = vault.exercise(id_, WAD, sender=buyer).return_value
    assert payout == model.exercise(2_900 * WAD, WAD) == 200 * 10**6
    assert protocol.usd.balanceOf(buyer) == payout
    _model_vs_chain(protocol, model, id_, (protocol.writer, second_writer))

    S, payoff = opts.expire(id_, 2_800 * WAD)
    for w in (protocol.writer, second_writer):
        before = protocol.usd.balanceOf(w)
        vault.settle_writer(id_, w, sender=protocol.keeper)
        owed, returned = model.settle(w, S)
        assert abs(protocol.usd.balanceOf(w) - before - returned) <= 2
    pool = protocol.series.pool_usd(id_)
    assert pool >= ref.owed_units(S, strike, False, 4 * WAD) - 1
    assert protocol.series.funded_value(id_) >= protocol.series.total_owed_value(id_)
    protocol.series.redeem(id_, 4 * WAD, sender=buyer)
    assert protocol.usd.balanceOf(buyer) == payout + ref.claim_units(payoff, 4 * WAD) // 10**12
    opts.assert_conserved([id_])


def test_exercise_refused_unless_oracle_fresh(protocol, opts, build_history, expect_revert):
    buyer, vault = protocol.buyer, protocol.vault
    id_ = opts.list(3000, is_call=True, american=True)
    opts.write(protocol.writer, id_, WAD)
    opts.give(protocol.writer, buyer, id_, WAD)
    # A +35% single-source bad print (test_oracle_attacks): DEVIANT at the last good price.
    protocol.feed.submit(int(3000 * 1.35) * WAD, sender=protocol.reporter)
    assert protocol.oracle.price() == (3000 * WAD, 2)
    expect_revert("vault: oracle not fresh", vault.exercise, id_, WAD, sender=buyer)
    # Frozen by the owner.
    opts.fresh(3_200 * WAD)
    protocol.oracle.set_frozen(True, sender=protocol.deployer)
    expect_revert("vault: oracle not fresh", vault.exercise, id_, WAD, sender=buyer)
    protocol.oracle.set_frozen(False, sender=protocol.deployer)
    # The feed goes stale: FALLBACK to the TWAP is not enough for exercise.
    build_history(3_720, step=620)
    assert protocol.oracle.price()[1] == 3
    expect_revert("vault: oracle not fresh", vault.exercise, id_, WAD, sender=buyer)
    # An honest print: FRESH, exercise goes through at it.
    opts.fresh(3_150 * WAD)
    assert vault.exercise(id_, WAD, sender=buyer).return_value == 150 * WAD * WAD // (3_150 * WAD)


def test_full_exercise_starts_a_new_epoch(protocol, opts, second_writer):
    buyer, vault = protocol.buyer, protocol.vault
    id_ = opts.list(3000, is_call=True, american=True)
    for w in (protocol.writer, second_writer):
        opts.write(w, id_, WAD)
        opts.give(w, buyer, id_, WAD)
    opts.fresh(3_100 * WAD)
    payout = vault.exercise(id_, 2 * WAD, sender=buyer).return_value
    assert payout == ref.exercise_payout_units(3_100 * WAD, K, True, 2 * WAD)
    sh = vault.shorts(id_)
    assert (sh.epoch, sh.shares, sh.outstanding, sh.locked) == (1, 0, 0, 0)
    freed_each = (2 * WAD - payout) // 2
    for w in (protocol.writer, second_writer):
        assert vault.written(id_, w) == 0
        assert freed_each - 1 <= vault.collectable(id_, w) <= freed_each
    # A new write opens the next epoch; the old positions keep only their free collateral.
    opts.write(protocol.writer, id_, WAD)
    assert vault.written(id_, protocol.writer) == WAD
    assert vault.shorts(id_).shares == WAD
    got = vault.collect(id_, sender=second_writer).return_value
    assert freed_each - 1 <= got <= freed_each
    opts.expire(id_)
    vault.settle_writer(id_, sender=protocol.writer)
    assert protocol.weth.balanceOf(protocol.writer) >= WAD + freed_each - 1
    assert vault.series_collateral(id_) <= 2
    opts.assert_conserved([id_])


def test_exercise_revert_reasons(protocol, opts, expect_revert):
    buyer, vault, d = protocol.buyer, protocol.vault, protocol.deployer
    european = opts.list(3000, is_call=True)
    american = opts.list(3000, is_call=True, american=True)
    put = opts.list(3000, is_call=False, american=True)
    for id_ in (european, american, put):
        opts.write(protocol.writer, id_, WAD)
        opts.give(protocol.writer, buyer, id_, WAD)
    opts.fresh(3_100 * WAD)
    expect_revert("vault: unknown series", vault.exercise, 99, WAD, sender=buyer)
    expect_revert("vault: not american", vault.exercise, european, WAD, sender=buyer)
    expect_revert("vault: not in the money", vault.exercise, put, WAD, sender=buyer)
    expect_revert("vault: below min size", vault.exercise, american, WAD // 1000, sender=buyer)
    expect_revert("vault: insufficient options", vault.exercise, american, WAD, sender=protocol.attacker)
    # Longs beyond what the vault wrote (another short's) cannot be exercised against the vault.
    protocol.option_token.set_minter(d, True, sender=d)
    protocol.option_token.mint(buyer, american, WAD, sender=d)
    expect_revert("vault: exceeds vault supply", vault.exercise, american, WAD + 1, sender=buyer)
    # One wei of intrinsic on the minimum size pays nothing: refused.
    opts.fresh(K + 1)
    expect_revert("vault: zero payout", vault.exercise, american, WAD // 100, sender=buyer)
    opts.expire(american)
    expect_revert("vault: expired", vault.exercise, american, WAD, sender=buyer)


def test_series_exhausted_after_near_total_exercise(protocol, opts, expect_revert):
    """Exercise leaving one wei outstanding behind more than 1e18 shares: new writes would mint
    absurd share counts, so the pool refuses them (closing and settling still work)."""
    vault = protocol.vault
    id_ = opts.list(3000, is_call=True, american=True)
    opts.write(protocol.writer, id_, WAD + 1)
    opts.give(protocol.writer, protocol.buyer, id_, WAD + 1)
    opts.fresh(3_300 * WAD)
    vault.exercise(id_, WAD, sender=protocol.buyer)
    assert vault.shorts(id_).outstanding == 1
    opts.fund(protocol.writer, id_, WAD)
    expect_revert("vault: series exhausted", vault.write, id_, WAD, sender=protocol.writer)
    opts.expire(id_)
    returned = vault.settle_writer(id_, sender=protocol.writer).return_value
    assert returned > 0
    assert vault.series_collateral(id_) <= 1
