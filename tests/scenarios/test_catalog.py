"""The catalog: every scenario of the issue is registered with criteria; the ones that need
liquidation are skipped with their reason, never faked; `none` is the only mechanism so far."""

import pytest

from dsi.scenarios import CATALOG, NEEDS_LIQUIDATION, REPLAYS, STANDARD_SUITE, get, mechanisms

RUNNABLE = ["black_thursday", "flash_pump", "twap_push", "frozen_feed", "bad_print", "monte_carlo", *REPLAYS]
NEED_LIQUIDATION = ["gap_past_fund", "donate_self_liquidate", "dump_on_backstop", "gas_spike_dust", "cascade"]


def test_every_scenario_is_registered_with_criteria():
    assert set(CATALOG) == set(RUNNABLE) | set(NEED_LIQUIDATION)
    assert tuple(STANDARD_SUITE) == tuple(CATALOG)
    for name in RUNNABLE:
        s = CATALOG[name]
        assert s.description and len(s.criteria) >= 2 and s.needs is None, name
    assert {CATALOG[n].backend for n in REPLAYS} == {"revm"}  # long runs in process
    assert CATALOG["flash_pump"].backend == "ape"  # attacks on the real node


@pytest.mark.parametrize("name", NEED_LIQUIDATION)
def test_liquidation_scenarios_are_skipped_with_the_reason(name, lab):
    result = get(name).run(lab())
    assert result.skipped == NEEDS_LIQUIDATION == "needs liquidation (branch liquidation)"
    assert result.passed is None and result.checks == []


def test_unknown_scenario_is_a_clear_error():
    with pytest.raises(KeyError, match="scenarios: unknown scenario 'nope'"):
        get("nope")


def test_none_is_the_only_mechanism_until_liquidation_lands():
    assert mechanisms.available() == ("none",)
    with pytest.raises(ValueError, match="mechanism 'dutch_auction' is not available"):
        mechanisms.install(None, None, "dutch_auction")
