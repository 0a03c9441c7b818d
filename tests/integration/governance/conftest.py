"""Governance fixtures: the whole protocol (margin, Dutch liquidation, a 50,000 USD fund) with
users' money in it, then handed to the timelock and the risk governor (`dsi.governance.govern`).

The book before the handover: a 30-day put K=2,700 listed; the writer's sub 0 (cross) holds
100,000 USD and is short 10 puts; the buyer's sub 0 holds 5,000 USD and 2 WETH; the writer holds
vault writings of 5 puts (collateral in the series' pool); the fund holds 50,000 USD.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from dsi.governance import Council

WAD = 10**18
USD = 10**6
DAY = 86_400
SLICE = (10**16, 8 * 10**16, -3 * 10**17, 0, 2 * 10**17)
MAX = 2**256 - 1


@dataclass
class Governed:
    p: object
    chain: object
    council: Council
    put: int
    expiry: int
    attesters: tuple = ()  # (risk team, verifier): approved by the stress gate

    def proof(self, contract, method: str, *words) -> list:
        """A claim + one verification for `contract.method(*words)` (the gate asks for one)."""
        from dsi.attest import post_for_change
        from dsi.governance import call_data

        risk_team, verifier = self.attesters
        return post_for_change(self.p, contract, call_data(contract, method, list(words)), risk_team, [verifier])

    def user_money(self) -> dict:
        """USD and WETH held by the protocol's contracts for users, and the fund's capital."""
        p = self.p
        return {
            "engine_usd": p.usd.balanceOf(p.engine), "engine_weth": p.weth.balanceOf(p.engine),
            "series_usd": p.usd.balanceOf(p.series), "fund_usd": p.usd.balanceOf(p.insurance_fund),
            "fund_capital": p.insurance_fund.capital(), "lender_usd": p.usd.balanceOf(p.lender),
            "pool_usd": p.usd.balanceOf(p.pool),
        }


def build_governed(build) -> Governed:
    p = build.liquidation(build.margin(build.protocol()), "dutch", fund_capital=50_000)
    expiry = build.chain.blocks.head.timestamp + 30 * DAY
    build.vol_slice(p, expiry, SLICE)
    put = build.list_series(p, expiry, ((2700, False),))[(2700, False)]
    build.twap_history(p, 30)
    build.fresh_oracle(p, 3_000 * WAD)
    build.deposit(p, p.writer, 100_000, 0, 0, 1)
    p.engine.open_short(0, put, 10 * WAD, sender=p.writer)
    build.deposit(p, p.buyer, 5_000, 2, 0, 1)
    p.usd.mint(p.writer, 20_000 * USD, sender=p.deployer)
    p.usd.approve(p.vault, MAX, sender=p.writer)
    p.vault.write(put, 5 * WAD, sender=p.writer)
    attesters = (build.accounts[8], build.accounts[9])  # the risk team and an independent verifier
    build.governed(p, attesters=attesters)
    return Governed(p=p, chain=build.chain, council=Council(p, build.chain), put=put, expiry=expiry,
                    attesters=attesters)


@pytest.fixture(scope="session")
def governed(build):
    return build_governed(build)
