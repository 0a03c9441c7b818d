"""SpotPool: liquidity, swap math against the Python model, fee, guards,
slippage quote, donations and owner-only setters."""

import math
import random

import ape
import pytest

import market_model as m
from market_model import POOL_USD, POOL_WETH, USD, WETH

ZERO = "0x0000000000000000000000000000000000000000"


# --- liquidity ---------------------------------------------------------------


def test_first_deposit_sets_price_and_locks_minimum(empty_pool, weth, usd, lp, fund):
    fund(weth, lp, 10 * WETH, empty_pool)
    fund(usd, lp, 25_000 * USD, empty_pool)
    empty_pool.add_liquidity(10 * WETH, 25_000 * USD, 0, lp, sender=lp)

    expected = math.isqrt(10 * WETH * 25_000 * USD) - m.MIN_LIQUIDITY
    assert empty_pool.shares(lp) == expected
    assert empty_pool.shares(ZERO) == m.MIN_LIQUIDITY
    assert empty_pool.total_shares() == expected + m.MIN_LIQUIDITY
    assert (empty_pool.reserve0(), empty_pool.reserve1()) == (10 * WETH, 25_000 * USD)
    assert empty_pool.spot_price() == 2_500 * 10**18
    assert weth.balanceOf(empty_pool) == 10 * WETH
    assert usd.balanceOf(empty_pool) == 25_000 * USD
    assert weth.balanceOf(lp) == 0 and usd.balanceOf(lp) == 0


def test_first_deposit_too_small_reverts(empty_pool, weth, usd, lp, fund):
    fund(weth, lp, 1_000, empty_pool)
    fund(usd, lp, 1_000, empty_pool)
    with ape.reverts("pool: initial liquidity too low"):
        empty_pool.add_liquidity(1_000, 1_000, 0, lp, sender=lp)


def test_empty_pool_has_no_price(empty_pool, weth):
    with ape.reverts("pool: no liquidity"):
        empty_pool.spot_price()
    with ape.reverts("pool: no liquidity"):
        empty_pool.get_amount_out(weth, WETH)


def test_second_deposit_takes_the_reserve_ratio_rounded_up(pool, weth, usd, arbitrageur, fund):
    model = m.PoolModel()
    model.add_liquidity(POOL_WETH, POOL_USD, 0)
    supply = pool.total_shares()
    assert supply == model.total_shares

    # Offer an unbalanced, odd-sized pair: USD is the binding side.
    offer0, offer1 = 7 * WETH + 12_345, 12_000 * USD + 7
    fund(weth, arbitrageur, offer0, pool)
    fund(usd, arbitrageur, offer1, pool)
    minted, used0, used1 = model.add_liquidity(offer0, offer1, 0)
    assert used0 < offer0 and used1 <= offer1

    pool.add_liquidity(offer0, offer1, minted, arbitrageur, sender=arbitrageur)
    assert pool.shares(arbitrageur) == minted
    assert pool.total_shares() == supply + minted
    assert weth.balanceOf(arbitrageur) == offer0 - used0
    assert usd.balanceOf(arbitrageur) == offer1 - used1
    assert (pool.reserve0(), pool.reserve1()) == (model.r0, model.r1)
    # Rounding up what is taken never lowers the value per share.
    assert pool.reserve0() * supply >= POOL_WETH * pool.total_shares()


def test_add_liquidity_min_shares_guard(pool, weth, usd, arbitrageur, fund):
    fund(weth, arbitrageur, WETH, pool)
    fund(usd, arbitrageur, 3_000 * USD, pool)
    expected = min(WETH * pool.total_shares() // POOL_WETH, 3_000 * USD * pool.total_shares() // POOL_USD)
    with ape.reverts("pool: slippage"):
        pool.add_liquidity(WETH, 3_000 * USD, expected + 1, arbitrageur, sender=arbitrageur)


def test_remove_liquidity_pays_pro_rata_rounded_down(pool, weth, usd, lp):
    shares = pool.shares(lp)
    supply = pool.total_shares()
    burn = shares // 3
    out0 = burn * POOL_WETH // supply
    out1 = burn * POOL_USD // supply

    with ape.reverts("pool: slippage"):
        pool.remove_liquidity(burn, out0 + 1, out1, lp, sender=lp)
    pool.remove_liquidity(burn, out0, out1, lp, sender=lp)

    assert (weth.balanceOf(lp), usd.balanceOf(lp)) == (out0, out1)
    assert (pool.reserve0(), pool.reserve1()) == (POOL_WETH - out0, POOL_USD - out1)
    assert pool.shares(lp) == shares - burn
    assert pool.total_shares() == supply - burn


def test_remove_all_leaves_locked_minimum(pool, lp):
    pool.remove_liquidity(pool.shares(lp), 0, 0, lp, sender=lp)
    assert pool.total_shares() == m.MIN_LIQUIDITY
    supply = math.isqrt(POOL_WETH * POOL_USD)
    assert pool.reserve0() == POOL_WETH - (supply - m.MIN_LIQUIDITY) * POOL_WETH // supply
    assert pool.reserve0() > 0 and pool.reserve1() > 0


def test_remove_more_than_owned_reverts(pool, lp, attacker):
    with ape.reverts("pool: insufficient shares"):
        pool.remove_liquidity(1, 0, 0, attacker, sender=attacker)
    with ape.reverts("pool: insufficient shares"):
        pool.remove_liquidity(pool.shares(lp) + 1, 0, 0, lp, sender=lp)


# --- swaps -------------------------------------------------------------------


@pytest.mark.parametrize("amount_in", [1, 10**15 + 3, 7 * WETH, 999 * WETH])
def test_sell_weth_matches_constant_product(pool, weth, usd, arbitrageur, fund, amount_in):
    expected = m.amount_out(amount_in, POOL_WETH, POOL_USD)
    assert pool.get_amount_out(weth, amount_in) == expected
    fund(weth, arbitrageur, amount_in, pool)
    if expected == 0:
        with ape.reverts("pool: insufficient output"):
            pool.swap_exact_in(weth, amount_in, 0, arbitrageur, sender=arbitrageur)
        return
    pool.swap_exact_in(weth, amount_in, expected, arbitrageur, sender=arbitrageur)
    assert usd.balanceOf(arbitrageur) == expected
    assert weth.balanceOf(arbitrageur) == 0
    assert (pool.reserve0(), pool.reserve1()) == (POOL_WETH + amount_in, POOL_USD - expected)


@pytest.mark.parametrize("amount_in", [3_001, 12_345 * USD + 1, 2_500_000 * USD])
def test_buy_weth_matches_constant_product(pool, weth, usd, arbitrageur, attacker, fund, amount_in):
    expected = m.amount_out(amount_in, POOL_USD, POOL_WETH)
    fund(usd, arbitrageur, amount_in, pool)
    pool.swap_exact_in(usd, amount_in, expected, attacker, sender=arbitrageur)
    assert weth.balanceOf(attacker) == expected
    assert usd.balanceOf(arbitrageur) == 0
    assert (pool.reserve0(), pool.reserve1()) == (POOL_WETH - expected, POOL_USD + amount_in)


def test_swap_sequence_matches_model(pool, weth, usd, arbitrageur, fund):
    """Twelve seeded swaps both ways: every output and the final reserves are exact."""
    rng = random.Random(20240601)
    model = m.PoolModel()
    model.add_liquidity(POOL_WETH, POOL_USD, 0)
    fund(weth, arbitrageur, 400 * WETH, pool)
    fund(usd, arbitrageur, 1_500_000 * USD, pool)
    for _ in range(12):
        zero_for_one = rng.random() < 0.5
        if zero_for_one:
            amount = rng.randrange(1, 30 * WETH)
            token = weth
        else:
            amount = rng.randrange(1, 100_000 * USD)
            token = usd
        expected = model.swap(zero_for_one, amount, 0)
        receipt = pool.swap_exact_in(token, amount, expected, arbitrageur, sender=arbitrageur)
        assert receipt.return_value == expected
    assert (pool.reserve0(), pool.reserve1()) == (model.r0, model.r1)
    assert weth.balanceOf(pool) == model.r0 and usd.balanceOf(pool) == model.r1


def test_swap_emits_event(pool, weth, arbitrageur, attacker, fund):
    fund(weth, arbitrageur, WETH, pool)
    receipt = pool.swap_exact_in(weth, WETH, 0, attacker, sender=arbitrageur)
    expected = m.amount_out(WETH, POOL_WETH, POOL_USD)
    assert receipt.events.filter(pool.Swap) == [
        pool.Swap(sender=arbitrageur, receiver=attacker, token_in=weth, amount_in=WETH, amount_out=expected)
    ]


def test_fee_stays_with_liquidity(pool, weth, usd, arbitrageur, fund):
    model = m.PoolModel()
    model.add_liquidity(POOL_WETH, POOL_USD, 0)
    bought = model.swap(False, 300_000 * USD, 0)
    back = model.swap(True, bought, 0)

    fund(usd, arbitrageur, 300_000 * USD, pool)
    pool.swap_exact_in(usd, 300_000 * USD, 0, arbitrageur, sender=arbitrageur)
    assert weth.balanceOf(arbitrageur) == bought
    weth.approve(pool, bought, sender=arbitrageur)
    pool.swap_exact_in(weth, bought, 0, arbitrageur, sender=arbitrageur)
    assert usd.balanceOf(arbitrageur) == back
    # The round trip loses about two fees, which stay in the reserves.
    assert 300_000 * USD - back > 2 * 300_000 * USD * m.POOL_DEFAULT_FEE_BPS // m.BPS * 9 // 10
    assert (pool.reserve0(), pool.reserve1()) == (POOL_WETH, POOL_USD + 300_000 * USD - back)
    assert pool.reserve0() * pool.reserve1() > POOL_WETH * POOL_USD


@pytest.mark.parametrize("fee_bps", [0, 1, 100])
def test_fee_setting_changes_output(pool, weth, usd, deployer, arbitrageur, fund, fee_bps):
    pool.set_fee(fee_bps, sender=deployer)
    assert pool.fee_bps() == fee_bps
    amount = 50 * WETH
    expected = m.amount_out(amount, POOL_WETH, POOL_USD, fee_bps)
    assert pool.get_amount_out(weth, amount) == expected
    fund(weth, arbitrageur, amount, pool)
    pool.swap_exact_in(weth, amount, expected, arbitrageur, sender=arbitrageur)
    assert usd.balanceOf(arbitrageur) == expected


def test_slippage_guard(pool, weth, arbitrageur, fund):
    quote = pool.get_amount_out(weth, 5 * WETH)
    fund(weth, arbitrageur, 5 * WETH, pool)
    with ape.reverts("pool: slippage"):
        pool.swap_exact_in(weth, 5 * WETH, quote + 1, arbitrageur, sender=arbitrageur)
    assert pool.reserve0() == POOL_WETH
    assert pool.swap_exact_in(weth, 5 * WETH, quote, arbitrageur, sender=arbitrageur).return_value == quote


def test_unknown_token_and_bad_arguments(pool, stranger_token, weth, arbitrageur):
    with ape.reverts("pool: unknown token"):
        pool.swap_exact_in(stranger_token, WETH, 0, arbitrageur, sender=arbitrageur)
    with ape.reverts("pool: zero amount"):
        pool.swap_exact_in(weth, 0, 0, arbitrageur, sender=arbitrageur)
    with ape.reverts("pool: zero address"):
        pool.swap_exact_in(weth, WETH, 0, ZERO, sender=arbitrageur)


@pytest.mark.parametrize("amount_out", [1, 3_000 * USD, 2_999_999 * USD])
def test_get_amount_in_is_the_least_sufficient_input(pool, weth, usd, amount_out):
    needed = pool.get_amount_in(usd, amount_out)
    assert needed == m.amount_in(amount_out, POOL_WETH, POOL_USD)
    assert m.amount_out(needed, POOL_WETH, POOL_USD) >= amount_out
    assert m.amount_out(needed - 1, POOL_WETH, POOL_USD) < amount_out
    assert pool.get_amount_out(weth, needed) >= amount_out


def test_get_amount_in_whole_reserve_reverts(pool, usd):
    with ape.reverts("pool: insufficient liquidity"):
        pool.get_amount_in(usd, POOL_USD)


# --- liquidity depth ---------------------------------------------------------


@pytest.mark.parametrize(
    "side, amount_in",
    [("weth", 10**12), ("weth", 10 * WETH), ("weth", 1_000 * WETH), ("usd", 1 * USD), ("usd", 600_000 * USD)],
)
def test_quote_slippage_matches_model(pool, weth, usd, side, amount_in):
    token, r_in, r_out = (weth, POOL_WETH, POOL_USD) if side == "weth" else (usd, POOL_USD, POOL_WETH)
    out, impact = pool.quote_slippage(token, amount_in)
    expected_out = m.amount_out(amount_in, r_in, r_out)
    assert out == expected_out
    assert impact == m.price_impact(amount_in, expected_out, r_in, r_out)
    # Dust costs the fee; depth costs more: selling the whole reserve halves the price.
    fee = m.POOL_DEFAULT_FEE_BPS * m.WAD // m.BPS
    assert impact >= fee
    if amount_in == 1_000 * WETH:
        assert m.WAD // 2 < impact < m.WAD // 2 + 2 * fee


def test_quote_slippage_grows_with_size(pool, weth):
    impacts = [pool.quote_slippage(weth, n * WETH)[1] for n in (1, 10, 100)]
    assert impacts == sorted(impacts) and impacts[0] < impacts[2]
    assert impacts[0] == m.price_impact(WETH, m.amount_out(WETH, POOL_WETH, POOL_USD), POOL_WETH, POOL_USD)


# --- donations ---------------------------------------------------------------


def test_donation_does_not_move_price(pool, weth, usd, attacker, deployer, fund):
    price = pool.spot_price()
    quote = pool.get_amount_out(weth, WETH)
    fund(weth, attacker, 100 * WETH)
    fund(usd, attacker, 50_000 * USD)
    weth.transfer(pool, 100 * WETH, sender=attacker)
    usd.transfer(pool, 50_000 * USD, sender=attacker)

    assert weth.balanceOf(pool) == POOL_WETH + 100 * WETH
    assert pool.spot_price() == price == 3_000 * 10**18
    assert (pool.reserve0(), pool.reserve1()) == (POOL_WETH, POOL_USD)
    assert pool.get_amount_out(weth, WETH) == quote

    pool.skim(deployer, sender=deployer)
    assert weth.balanceOf(deployer) == 100 * WETH
    assert usd.balanceOf(deployer) == 50_000 * USD
    assert weth.balanceOf(pool) == POOL_WETH
    assert pool.spot_price() == price


# --- owner-only setters ------------------------------------------------------


def test_fee_bound(pool, deployer):
    assert pool.fee_bps() == m.POOL_DEFAULT_FEE_BPS
    with ape.reverts("pool: fee above bound"):
        pool.set_fee(m.POOL_MAX_FEE_BPS + 1, sender=deployer)
    pool.set_fee(m.POOL_MAX_FEE_BPS, sender=deployer)
    assert pool.fee_bps() == m.POOL_MAX_FEE_BPS


def test_setters_are_owner_only(pool, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        pool.set_fee(0, sender=attacker)
    with ape.reverts("ownable: caller is not the owner"):
        pool.skim(attacker, sender=attacker)
    assert pool.fee_bps() == m.POOL_DEFAULT_FEE_BPS
