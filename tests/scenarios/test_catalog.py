"""The catalog: every scenario of the issue is registered with criteria and runs under every
liquidation mechanism (`none` as the baseline); a scenario with nothing to measure without a
mechanism is skipped under `none` with its reason, never faked."""

import pytest

from dsi.scenarios import CATALOG, REPLAYS, STANDARD_SUITE, get, mechanisms

RUNNABLE = ["black_thursday", "flash_pump", "twap_push", "frozen_feed", "bad_print", "monte_carlo", *REPLAYS,
            "gap_past_fund", "donate_self_liquidate", "dump_on_backstop", "settlement_push", "settle_order_grief",
            "owner_key_compromised", "governance_flash_loan", "guardian_abuse"]
NEED_MECHANISM = ["cascade", "gas_spike_dust"]


def test_every_scenario_is_registered_with_criteria():
    assert set(CATALOG) == set(RUNNABLE) | set(NEED_MECHANISM)
    assert tuple(STANDARD_SUITE) == tuple(CATALOG)
    for name in RUNNABLE:
        s = CATALOG[name]
        assert s.description and len(s.criteria) >= 2 and s.needs is None, name
    assert {CATALOG[n].backend for n in REPLAYS} == {"revm"}  # long runs in process
    assert CATALOG["flash_pump"].backend == "ape"  # attacks on the real node


@pytest.mark.parametrize("name", NEED_MECHANISM)
def test_scenarios_without_a_mechanism_to_measure_are_skipped_under_none(name, lab):
    result = get(name).run(lab(mechanism="none"))
    assert result.skipped == "needs a liquidation mechanism (nothing to measure under none)"
    assert result.passed is None and result.checks == []


def test_unknown_scenario_is_a_clear_error():
    with pytest.raises(KeyError, match="scenarios: unknown scenario 'nope'"):
        get("nope")


def test_every_mechanism_is_available_and_unknown_ones_are_refused():
    assert mechanisms.available() == ("none", "dutch", "fixed", "dynamic")
    with pytest.raises(ValueError, match="mechanism 'dutch_auction' is not available"):
        mechanisms.install(None, None, "dutch_auction")
