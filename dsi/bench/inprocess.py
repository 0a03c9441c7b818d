"""Contract calls per second on the in-process paths (`dsi.chain`: revm and boa).

`python -m dsi.bench.inprocess` deploys the whole protocol in process and times a lab-like mix
of calls (what a replay step does: the arbitrageur's mint/approve/swap, the reporter's feed
submit, the keeper's TWAP update and oracle poke, reads of the oracle, the pool and the margin
of cross and portfolio accounts) and each kind alone. Prints calls/s per row; the lab's
target is >= 3,000 calls/s for the mix.
"""

from __future__ import annotations

import time

from dsi.chain import backend as make_backend
from dsi.protocol import deploy, deploy_margin

WAD = 10**18
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)


def _setup(name: str):
    b = make_backend(name)
    p = deploy_margin(b.project, deploy(b.project, b.accounts))
    expiry = b.chain.timestamp + 30 * DAY
    p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
    p.series.list_series(2_700 * WAD, expiry, False, False, sender=p.deployer)
    put = p.series.find_series(2_700 * WAD, expiry, False, False)
    for _ in range(31):
        b.chain.mine(deltatime=60)
        p.twap.update(sender=p.keeper)
    p.usd.mint(p.writer, 10**12, sender=p.deployer)
    p.usd.approve(p.engine.address, 10**12, sender=p.writer)
    for sub, mode in ((1, 1), (2, 2)):
        p.engine.deposit(sub, 100_000 * 10**6, 0, sender=p.writer)
        p.engine.set_mode(sub, mode, sender=p.writer)
        p.engine.open_short(sub, put, 10 * WAD, sender=p.writer)
    p.weth.mint(p.arbitrageur, 10**30, sender=p.deployer)
    p.weth.approve(p.pool.address, 2**255, sender=p.arbitrageur)
    p.usd.mint(p.arbitrageur, 10**20, sender=p.deployer)
    p.usd.approve(p.pool.address, 2**255, sender=p.arbitrageur)
    return b, p


def _rate(fn, n: int, chain) -> tuple[float, int]:
    calls0 = chain.calls
    t0 = time.perf_counter()
    for i in range(n):
        fn(i)
    dt = time.perf_counter() - t0
    calls = chain.calls - calls0
    return calls / dt, calls


def measure(name: str = "revm", n: int = 2_000) -> list[dict]:
    b, p = _setup(name)
    chain = b.chain
    weth, usd = p.weth.address, p.usd.address

    def step(i):  # one lab step: market, feed, keeper, reads
        chain.mine(deltatime=12)
        p.pool.swap_exact_in(weth if i % 2 else usd, 10**17 if i % 2 else 300 * 10**6, 0, p.arbitrageur,
                             sender=p.arbitrageur)
        p.feed.submit(3_000 * WAD, sender=p.reporter)
        p.twap.update(sender=p.keeper)
        p.oracle.poke(sender=p.keeper)
        p.oracle.price()
        p.pool.spot_price()
        p.pool.reserve0()
        p.pool.reserve1()
        p.weth.balanceOf(p.arbitrageur)
        p.engine.margin(p.writer, 1)

    kinds = {
        "lab step mix (swap, submit, update, poke, 5 reads, cross margin)": (step, n // 10),
        "token transfer": (lambda i: p.usd.transfer(p.buyer, 1, sender=p.arbitrageur), n),
        "oracle.price (view)": (lambda i: p.oracle.price(), n),
        "pool swap": (lambda i: p.pool.swap_exact_in(usd, 10**6, 0, p.arbitrageur, sender=p.arbitrageur), n),
        "margin, cross, 1 short (view)": (lambda i: p.engine.margin(p.writer, 1), n // 4),
        "margin, portfolio, 1 short (view)": (lambda i: p.engine.margin(p.writer, 2), n // 20),
    }
    rows = []
    for name, (fn, count) in kinds.items():
        rate, calls = _rate(fn, count, chain)
        rows.append({"backend": b.name, "name": name, "calls": calls, "calls_per_s": rate})
    return rows


def main() -> None:
    print("In-process paths (dsi.chain): contract calls per second, this machine")
    print(f"| {'backend':<7} | {'calls':<66} | {'calls':>6} | {'calls/s':>8} |")
    print(f"|{'-' * 9}|{'-' * 68}|{'-' * 8}|{'-' * 10}|")
    mix = {}
    for name, n in (("revm", 4_000), ("boa", 400)):
        for r in measure(name, n):
            print(f"| {r['backend']:<7} | {r['name']:<66} | {r['calls']:>6} | {r['calls_per_s']:>8,.0f} |")
            mix.setdefault(name, r["calls_per_s"])
    ok = mix["revm"] >= 3_000
    print(f"target >= 3,000 calls/s on the lab mix (revm): {'met' if ok else 'NOT met'} ({mix['revm']:,.0f}); "
          f"boa (py-evm): {mix['boa']:,.0f}")


if __name__ == "__main__":
    main()
