"""The fuzzer's governor rules (dsi.fuzz.governance), driven step by step on a fresh governed
world: each rule does what it says and the governor invariants check real values."""

import pytest

from dsi.fuzz.machine import STATS, ProtocolMachine


@pytest.fixture
def machine(monkeypatch):
    monkeypatch.setattr("dsi.fuzz.governance.note", lambda *a: None)  # hypothesis notes need a test run
    m = ProtocolMachine()
    yield m
    m.teardown()


def _setter(machine, name, method):
    return next(i for i, s in enumerate(machine.setters) if (s["name"], s["method"]) == (name, method))


def _invariants(machine):
    machine.governor_record_matches_the_contracts()
    machine.risk_drift_within_window_caps()
    machine.guardian_only_tightened()


def test_the_fuzz_world_is_governed(machine):
    p = machine.p
    assert p.engine.owner() == p.governor.address
    assert len(machine.setters) == 17  # dutch: every risk setter incl. the fund's, the mechanism's and the monitor's two
    _invariants(machine)


def test_queued_updates_execute_after_the_delay_as_the_reference_says(machine):
    p = machine.p
    i = _setter(machine, "model", "set_haircuts")
    executed = STATS.rules["governance.execute"]
    machine.council_queues_risk_update(pick=i, word=1, factor=1.0)  # weth haircut 15% -> 20%: one step
    machine.council_queues_risk_update(pick=i, word=1, factor=2.0)  # 15% -> 25%, queued in parallel
    machine.timelock_delay_passes()
    # Both execute in one block, each measured from the approved value at execution: 15 -> 20 ->
    # 25 (5 points each, within the step), 10 points of drift: the whole 30-day cap.
    assert STATS.rules["governance.execute"] == executed + 2
    assert p.model.weth_haircut() == 25 * 10**16
    assert [d for _, d in machine.setters[i]["refs"][1].history] == [5 * 10**16, 5 * 10**16]
    machine.council_queues_risk_update(pick=i, word=1, factor=-0.5)  # back down 2.5 points: over the cap
    machine.timelock_delay_passes()
    assert p.model.weth_haircut() == 25 * 10**16
    assert not machine.queued
    _invariants(machine)


def test_queued_loosenings_meet_the_gate_as_the_reference_says(machine):
    """The weth haircut down one step (a loosening): without an attestation refused; with one,
    accepted; two attested loosenings queued in parallel: the first executes, the second's claim
    names a set that no longer comes next (refused: another parameter set)."""
    p = machine.p
    i = _setter(machine, "model", "set_haircuts")
    w = p.model.weth_haircut()
    machine.council_queues_risk_update(pick=i, word=1, factor=-1.0)  # no attestation
    machine.timelock_delay_passes()
    assert p.model.weth_haircut() == w
    machine.council_queues_risk_update(pick=i, word=1, factor=-1.0, attested=True)
    machine.timelock_delay_passes()
    assert p.model.weth_haircut() == w - 5 * 10**16
    j = _setter(machine, "model", "set_portfolio_factors")
    machine.council_queues_risk_update(pick=j, word=1, factor=-1.0, attested=True)  # mm factor down
    machine.council_queues_risk_update(pick=i, word=0, factor=-0.5, attested=True)  # usd haircut down
    machine.timelock_delay_passes()
    assert p.model.usd_haircut() == machine.setters[i]["refs"][0].value  # unchanged: refused, as predicted
    assert not machine.queued
    _invariants(machine)


def test_guardian_rules_tighten_refuse_and_lapse(machine):
    p = machine.p
    i = _setter(machine, "model", "set_standard_params")
    im_a = p.model.im_params()[0]
    machine.guardian_tightens(pick=i, word=0, factor=0.5)  # im.a up half a step: accepted
    assert p.model.im_params()[0] == im_a + 25 * 10**15
    machine.guardian_tightens(pick=i, word=0, factor=-1.0)  # down: refused (asserted inside)
    machine.guardian_tightens(pick=i, word=2, factor=0.5)  # mm.a is fixed: refused
    assert p.model.im_params()[0] == im_a + 25 * 10**15
    _invariants(machine)
    machine.anyone_lapses(pick=i)  # not expired yet (asserted inside)
    machine.chain.mine(deltatime=p.governor.GUARDIAN_TTL() + 1)
    machine.anyone_lapses(pick=i)
    assert p.model.im_params()[0] == im_a
    _invariants(machine)


@pytest.mark.parametrize("who", ["deployer", "attacker", "guardian"])
def test_no_key_calls_a_privileged_function(machine, who):
    for pick in range(12):
        machine.keys_call_privileged_functions(who=who, pick=pick)


def test_the_monitor_tightens_on_a_crash_relaxes_after_and_the_record_holds(machine):
    """A 30% fall: the keeper's poke raises the stress level and every stressed word is the
    reference composition; the guardian tightens on top; then a calm market: the level falls one
    step per cooldown back to 0 and the words are the approved ones again."""
    p = machine.p
    machine.keeper_pokes_the_monitor()  # seeds the trailing levels
    assert machine.stress_level == 0
    machine.market_moves(-0.30)
    assert machine.stress_level >= 1
    _invariants(machine)
    s = machine.setters[_setter(machine, "model", "set_standard_params")]
    assert s["current"][0] > s["refs"][0].value and s["current"][2] > s["refs"][2].value  # im.a, mm.a up
    machine.guardian_tightens(pick=_setter(machine, "model", "set_standard_params"), word=0, factor=1.0)
    _invariants(machine)
    seen = [machine.stress_level]
    for _ in range(60):
        machine.time_passes(3_601)
        machine.reporters_refresh()
        machine.keeper_pokes_the_monitor()
        _invariants(machine)
        seen.append(machine.stress_level)
        if machine.stress_level == 0:
            break
    assert machine.stress_level == 0
    assert all(b in (a, a - 1) for a, b in zip(seen, seen[1:]))
    assert p.governor.stress_level() == 0
