"""SpotPool's Uniswap-v2-style cumulative price: time weighting, the view
that extrapolates it, and why a same-transaction pump never enters it."""

import market_model as m
from market_model import LENDER_USD, POOL_USD, POOL_WETH, USD, WETH

OPENING_PRICE = 3_000 * 10**18


def _send_at(chain, timestamp, send):
    """Mine the transaction `send()` in a block stamped `timestamp`."""
    chain.pending_timestamp = timestamp
    receipt = send()
    assert receipt.timestamp == timestamp
    return receipt


def test_accumulator_is_the_time_weighted_price(chain, pool, weth, usd, arbitrageur, fund):
    model = m.PoolModel()
    model.add_liquidity(POOL_WETH, POOL_USD, pool.block_timestamp_last())
    assert pool.price_cumulative_last() == 0
    assert pool.spot_price() == OPENING_PRICE

    fund(weth, arbitrageur, 100 * WETH, pool)
    fund(usd, arbitrageur, 500_000 * USD, pool)
    now = chain.blocks.head.timestamp
    steps = [(weth, 40 * WETH, 100), (usd, 250_000 * USD, 250), (weth, 3 * WETH, 1), (usd, 17 * USD, 3_600)]
    for token, amount, gap in steps:
        now += gap
        _send_at(chain, now, lambda: pool.swap_exact_in(token, amount, 0, arbitrageur, sender=arbitrageur))
        price_before = m.spot_price(model.r0, model.r1)
        cumulative_before = model.cumulative
        elapsed = now - model.timestamp_last
        model.swap(token == weth, amount, now)
        assert pool.block_timestamp_last() == now
        assert pool.price_cumulative_last() == model.cumulative == cumulative_before + price_before * elapsed
    assert (pool.reserve0(), pool.reserve1()) == (model.r0, model.r1)
    assert pool.spot_price() == m.spot_price(model.r0, model.r1)


def test_current_cumulative_extrapolates_with_current_reserves(chain, pool):
    last = pool.block_timestamp_last()
    chain.mine(deltatime=1_000)
    cumulative, timestamp = pool.current_cumulative()
    assert timestamp >= last + 1_000
    assert cumulative == pool.price_cumulative_last() + OPENING_PRICE * (timestamp - last)
    # Viewing writes nothing.
    assert pool.block_timestamp_last() == last


def test_pump_held_across_blocks_is_time_weighted(chain, pool, usd, arbitrageur, fund):
    """The contrast case: a pump that lasts 540 s is in the TWAP, in proportion."""
    c1, t1 = pool.current_cumulative()
    fund(usd, arbitrageur, 3_000_000 * USD, pool)
    pump = _send_at(
        chain,
        chain.blocks.head.timestamp + 60,
        lambda: pool.swap_exact_in(usd, 3_000_000 * USD, 0, arbitrageur, sender=arbitrageur),
    )
    pumped = pool.spot_price()
    assert pumped > 3 * OPENING_PRICE
    chain.mine(timestamp=pump.timestamp + 540)
    c2, t2 = pool.current_cumulative()
    assert t2 == pump.timestamp + 540
    assert c2 - c1 == OPENING_PRICE * (pump.timestamp - t1) + pumped * 540
    twap = (c2 - c1) // (t2 - t1)
    assert OPENING_PRICE < twap < pumped


def test_same_transaction_pump_never_enters_accumulator(
    chain, pool, lender, flash_borrower, weth, usd, attacker, arbitrageur, fund
):
    """A 1.5M USD flash loan buys WETH and sells it back inside one transaction.
    The pumped price lives for zero seconds: the accumulator gains exactly the
    pre-pump price for the time before, then the post-dump price after."""
    fund(usd, flash_borrower, 50_000 * USD)
    c0 = pool.price_cumulative_last()
    t0 = pool.block_timestamp_last()
    loan = 1_500_000 * USD
    assert loan <= LENDER_USD

    t1 = chain.blocks.head.timestamp + 600
    _send_at(chain, t1, lambda: flash_borrower.borrow(usd, loan, m.PUMP_AND_DUMP, sender=attacker))

    # What the borrower saw inside the transaction, against the Python model.
    model = m.PoolModel()
    model.add_liquidity(POOL_WETH, POOL_USD, 0)
    bought = model.swap(False, loan, 0)
    model_pumped = m.spot_price(model.r0, model.r1)
    sold_back = model.swap(True, bought, 0)
    before = flash_borrower.price_before()
    pumped = flash_borrower.price_pumped()
    after = flash_borrower.price_after()
    assert before == OPENING_PRICE
    assert pumped == model_pumped > 2 * OPENING_PRICE
    assert after == pool.spot_price() == m.spot_price(model.r0, model.r1)
    assert OPENING_PRICE < after < OPENING_PRICE * 1_01 // 1_00  # the round trip's fees stay in the pool
    assert pool.block_timestamp_last() == t1
    assert pool.price_cumulative_last() == c0 + before * (t1 - t0)

    # The next touch prices the gap since the attack at the post-dump price.
    fund(weth, arbitrageur, WETH, pool)
    t2 = t1 + 600
    _send_at(chain, t2, lambda: pool.swap_exact_in(weth, WETH, 0, arbitrageur, sender=arbitrageur))
    cumulative = pool.price_cumulative_last()
    assert cumulative == c0 + before * (t1 - t0) + after * (t2 - t1)
    twap = (cumulative - c0) // (t2 - t0)
    assert OPENING_PRICE < twap < OPENING_PRICE * 1_01 // 1_00 < pumped // 2

    # The attempt cost the borrower the round trip's swap fees and the flash fee.
    flash_fee = m.flash_fee(loan)
    assert lender.fees_earned(usd) == flash_fee == 750 * USD
    spent = 50_000 * USD - usd.balanceOf(flash_borrower)
    assert spent == loan - sold_back + flash_fee
    assert spent > flash_fee + loan * m.POOL_DEFAULT_FEE_BPS // m.BPS
    assert weth.balanceOf(flash_borrower) == 0
