"""Counterexamples the invariant fuzzer found, kept as named deterministic tests (each replays
the shrunk step sequence on a fresh world and asserts the property it broke)."""

import pytest

from dsi.fuzz.machine import STATUS_DEVIANT, ProtocolMachine
from dsi.fuzz.world import revert_reason


@pytest.fixture
def machine():
    m = ProtocolMachine()
    yield m
    m.teardown()


def test_bad_print_after_a_gap_is_deviant_not_fresh(machine):
    """Shrunk from the quick profile: market -30% (TWAP still near the old price), then a +35%
    bad print lands within 10% of the TWAP. The oracle returns the print, but flagged DEVIANT
    (spot disagrees with the TWAP), so nothing may act on it: risk-increasing actions revert."""
    p = machine.p
    writer = machine.w.actors["writer"]
    p.engine.open_short(0, machine.w.series_ids[0], 10**18, sender=writer)  # a book to protect
    machine.market_moves(move=-0.30)
    machine.bad_print(up=True)
    price, status = p.oracle.price()
    assert price == machine.bad_print_value
    assert status == STATUS_DEVIANT
    machine.oracle_status_consistent_with_timestamps()
    with pytest.raises(Exception) as exc:
        p.engine.open_short(0, machine.w.series_ids[0], 10**18, sender=writer)
    assert revert_reason(exc.value) == "margin: oracle not fresh"
    with pytest.raises(Exception) as exc:
        p.engine.withdraw(0, 1_000 * 10**6, 0, sender=writer)
    # The -30% gap also sank the world's leveraged books: withdrawals are gated on that first.
    assert revert_reason(exc.value) in {"margin: oracle not fresh", "margin: insolvency outstanding"}
