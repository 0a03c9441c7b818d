"""The world the invariant fuzzer plays in: the whole protocol deployed in process (titanoboa)
through `dsi.protocol` (the one deploy path), a small listed option chain with SVI slices,
thirty minutes of TWAP history and funded actors.

Built once per process and snapshotted; every hypothesis example starts from the snapshot.
Runs on the fast in-process backend (revm) by default; the same code runs on titanoboa.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsi.chain import Reverted, backend as make_backend
from dsi.protocol import deploy, deploy_margin

WAD = 10**18
USD = 10**6
DAY = 86_400
SPOT = 3_000
# A skewed SVI slice (a, b, rho, m, sigma), WAD: ~60-80% vol around the money.
SLICE = (2 * 10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)
STRIKES = (2_400, 3_000, 3_600)
TENORS = (7 * DAY, 30 * DAY)
FUNDING_USD = 5_000_000 * USD
FUNDING_WETH = 2_000 * WAD
FUND_CAPITAL = 50_000  # USD in the insurance fund at the start
TAKER_SUB = 1  # the sub-account liquidators take positions into
LEVERED_SUB = 5  # the leveraged books

_REASON = re.compile(r"<([a-z0-9_]+: [^<>]*)>")


def revert_reason(error: Exception) -> str | None:
    """The namespaced revert string of a failed call ("margin: below initial margin"), or None
    for a revert without one (an overflow, an out-of-gas, an assert without a reason)."""
    if isinstance(error, Reverted):  # revm: the decoded reason itself
        reason = str(error)
        return reason if _REASON.fullmatch(f"<{reason}>") else None
    match = _REASON.search(str(error))  # boa: the reason inside its stack trace
    return match.group(1) if match else None


@dataclass
class World:
    backend: object
    protocol: object
    series_ids: list  # every listed series id
    terms: dict  # id -> (strike WAD, expiry, is_call, is_american)
    actors: dict  # role -> address
    snapshot: object = None
    expiries: list = field(default_factory=list)
    accounts: list = field(default_factory=list)  # margin accounts funded at setup
    mechanism: str | None = None  # the liquidation mechanism wired, if any
    attesters: tuple = ()  # (risk team, verifier): the stress gate's approved attesters

    @property
    def chain(self):
        return self.backend.chain


def build_world(liquidation: str | None = None, backend_name: str = "revm") -> World:
    """Deploy and prepare the world on an in-process backend: "revm" (Rust EVM, the default:
    ~30x faster) or "boa" (titanoboa / py-evm)."""
    backend = make_backend(backend_name)
    chain = backend.chain
    p = deploy_margin(backend.project, deploy(backend.project, backend.accounts))
    if liquidation is not None:
        from dsi.protocol import deploy_liquidation

        deploy_liquidation(backend.project, p, liquidation, fund_capital=FUND_CAPITAL)
    d = p.deployer
    now = chain.timestamp
    ids, terms, expiries = [], {}, []
    for tenor in TENORS:
        expiry = now + tenor
        expiries.append(expiry)
        p.vol_feed.push(expiry, *SLICE, sender=p.reporter)
        for k in STRIKES:
            for is_call in (True, False):
                american = tenor == TENORS[0] and k == 3_000
                p.series.list_series(k * WAD, expiry, is_call, american, sender=d)
                sid = p.series.find_series(k * WAD, expiry, is_call, american)
                ids.append(sid)
                terms[sid] = (k * WAD, expiry, is_call, american)
    for _ in range(31):
        chain.mine(deltatime=60)
        p.twap.update(sender=p.keeper)
    p.feed.submit(SPOT * WAD, sender=p.reporter)
    p.oracle.poke(sender=p.keeper)
    actors = {role: getattr(p, role) for role in ("writer", "buyer", "attacker", "arbitrageur", "keeper")}
    for role in ("writer", "buyer", "attacker", "keeper"):
        a = actors[role]
        p.usd.mint(a, FUNDING_USD, sender=d)
        p.weth.mint(a, FUNDING_WETH, sender=d)
        for spender in (p.engine, p.vault):
            p.usd.approve(spender.address, 2**256 - 1, sender=a)
            p.weth.approve(spender.address, 2**256 - 1, sender=a)
        p.option_token.setApprovalForAll(p.engine.address, True, sender=a)
        if liquidation is not None:  # liquidators pay the fund's fee from their wallet
            p.usd.approve(p.insurance_fund.address, 2**256 - 1, sender=a)
        # Margin accounts ready to trade: sub 0 cross, sub 1 portfolio, sub 2 isolated.
        for sub, mode in ((0, 1), (1, 2), (2, 0)):
            p.engine.deposit(sub, 300_000 * USD, 20 * WAD, sender=a)
            p.engine.set_mode(sub, mode, sender=a)
    # Leveraged books on sub 5: 20 puts at the money, 30 days, funded at ~1.02 x initial margin
    # (writer cross, attacker portfolio): a market fall makes them liquidatable.
    atm_put = next(i for i in ids if terms[i][0] == 3_000 * WAD and not terms[i][2] and terms[i][1] == expiries[1])
    for role, mode in (("writer", 1), ("attacker", 2)):
        a = actors[role]
        p.engine.deposit(LEVERED_SUB, 300_000 * USD, 0, sender=a)
        p.engine.set_mode(LEVERED_SUB, mode, sender=a)
        p.engine.open_short(LEVERED_SUB, atm_put, 20 * WAD, sender=a)
        m = p.engine.margin(a, LEVERED_SUB)
        excess = int((m.equity - m.initial * 102 // 100) // 10**12 / 0.99)
        p.engine.withdraw(LEVERED_SUB, excess, 0, sender=a)
    world = World(backend=backend, protocol=p, series_ids=ids, terms=terms, actors=actors, expiries=expiries,
                  accounts=[(actors[r], sub) for r in ("writer", "buyer", "attacker", "keeper") for sub in (0, 1, 2)]
                  + [(actors["writer"], LEVERED_SUB), (actors["attacker"], LEVERED_SUB)],
                  mechanism=liquidation)
    # Governed, as deployed (issue 15): the timelock and the risk governor own every contract.
    from dsi.governance import govern

    test_accounts = getattr(backend.accounts, "test_accounts", backend.accounts)
    world.attesters = (test_accounts[8], test_accounts[9])  # the risk team and an independent verifier
    govern(backend.project, p, attesters=world.attesters)
    world.snapshot = chain.snapshot()
    return world
