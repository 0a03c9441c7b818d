"""The quick invariant-fuzzing profile, in CI: hypothesis drives the whole protocol in process
(revm) through random users, markets, oracle failures, liquidators (under each of the three
mechanisms) and attackers, checking every invariant of
`dsi.fuzz.machine` after every step (>= 20,000 contract calls)."""

from dsi.fuzz import run

NAMED_INVARIANTS = {
    "engine_tokens_cover_its_ledger", "engine_totals_equal_sum_of_accounts", "open_interest_equals_sum_of_shorts",
    "long_supply_equals_writers_obligations", "vault_fully_collateralised", "oracle_status_consistent_with_timestamps",
    "settlement_prices_immutable", "settlement_pools_never_pay_more_than_funded", "bad_debt_only_grows",
    "collateral_adequacy_matches_the_ledger", "health_is_equity_over_maintenance",
    "risk_increasing_action_leaves_initial_margin", "healthy_accounts_are_not_liquidatable",
    "fund_accounting_closes", "bad_debt_is_covered_plus_socialised", "value_under_auction_within_cap",
    "only_accounts_below_maintenance_are_liquidatable", "taker_meets_initial_margin_after_take",
    "settlement_claims_reach_their_holders", "no_actor_gains_beyond_fair_pnl",
}


def test_quick_profile_holds_every_invariant():
    figures = run.run("quick")
    print("\n" + run.summary(figures))
    run.record(figures)
    assert figures["calls"] >= 20_000
    missing = NAMED_INVARIANTS - {k for k, v in figures["invariants"].items() if v > 0}
    assert not missing, f"invariants never exercised: {sorted(missing)}"
    assert len(figures["invariants"]) >= 12
    # Every liquidation mechanism ran its share of the examples.
    assert set(figures["calls_per_mechanism"]) == {"dutch", "fixed", "dynamic"}
    assert min(figures["calls_per_mechanism"].values()) > 20_000
    assert figures["rules"].get("liquidation.take", 0) > 0  # liquidations really happened
    # The run exercised settlement and the oracle guards, not just deposits.
    assert figures["rules"].get("expire_and_settle", 0) > 0
    assert figures["rules"].get("bad_print", 0) > 0 and figures["rules"].get("same_block_pump", 0) > 0
    # The attacker's rules the economic invariant grades: pushes held across blocks, through an
    # expiry, and the fair-price trades that give it longs to push for.
    for rule in ("push.blocks", "push.settlement", "push.oracle_settle", "sell_longs"):
        assert figures["rules"].get(rule, 0) > 0, f"rule {rule} never ran"
