"""The governor's step and rolling drift cap against its reference twin, under hypothesis.

A governor whose timelock is the keeper's key (so updates land at any spacing, several in one
block as parallel queued operations would) owns a flash lender and bounds its fee: [0, 1,000] bps,
step 10, cap 30 per 30 days. Random sequences of (wait, fee change): every verdict (pass, or the
revert reason) equals `dsi.reference.governor.WordBound`'s, and over the accepted updates no
30-day window ever drifts more than the cap. A raise loosens the fee (smaller is safer), so it
carries a stress attestation for the resulting parameter set (`dsi.attest.post_for_change`, the
deployer an approved attester, no verifications asked); the bounds are checked before it.
"""

from __future__ import annotations

import ape
from hypothesis import event, given, settings, strategies as st

from types import SimpleNamespace

from dsi.attest import post_for_change
from dsi.governance import DOWN, call_data
from dsi.reference.governor import WordBound, max_window_drift

DAY = 86_400
WINDOW = 30 * DAY
LO, HI, STEP, CAP = 0, 1_000, 10, 30


def _governed_lender(project, deployer, keeper):
    token = project.CollateralToken.deploy("DSI USD", "dUSD", 6, sender=deployer)
    lender = project.FlashLender.deploy([token.address], sender=deployer)
    governor = project.RiskGovernor.deploy(keeper, deployer, sender=deployer)
    lender.transfer_ownership(governor.address, sender=deployer)
    fee = lender.fee_bps()
    governor.register(lender.address, call_data(lender, "set_fee", [fee]), [(LO, HI, STEP, CAP, WINDOW, DOWN, DOWN)],
                      sender=deployer)
    registry = project.AttestationRegistry.deploy(sender=deployer)
    gate = project.StressGate.deploy(registry.address, 7 * DAY, 0, sender=deployer)
    gate.set_attester(deployer, True, sender=deployer)
    governor.set_gate(gate.address, sender=deployer)
    _DEPLOYMENTS[lender.address] = SimpleNamespace(governor=governor, registry=registry, attester=deployer)
    return lender, governor, WordBound(value=fee, lo=LO, hi=HI, step=STEP, cap=CAP, window=WINDOW)


_DEPLOYMENTS: dict = {}


def _proof(lender, fee) -> list:
    """A raise loosens: its attestation (posted now, in its own block); a cut needs none."""
    if fee <= lender.fee_bps():
        return []
    d = _DEPLOYMENTS[lender.address]
    return post_for_change(d, lender, call_data(lender, "set_fee", [fee]), d.attester)


def _set_fee(lender, governor, fee, keeper):
    return governor.set_risk(lender.address, call_data(lender, "set_fee", [fee]), _proof(lender, fee), sender=keeper)


def test_the_ring_and_the_cap_refuse_in_the_window_and_free_after_it(project, chain, deployer, keeper):
    """Eight changes of 1 bps in one hour fill the ring: a ninth is refused although the drift
    (8) is far below the cap; 29 days later still refused, 30 days later it passes. Then 3 x
    10 bps within the window use the cap: a fourth change of 1 is refused."""
    lender, governor, ref = _governed_lender(project, deployer, keeper)
    fee = lender.fee_bps()
    for i in range(8):
        fee += 1 if i % 2 == 0 else -1
        _set_fee(lender, governor, fee, keeper)
    with ape.reverts("governor: too many updates in window"):
        governor.check_risk(lender.address, call_data(lender, "set_fee", [fee + 1]), [])
    chain.mine(deltatime=29 * DAY)
    with ape.reverts("governor: too many updates in window"):
        governor.check_risk(lender.address, call_data(lender, "set_fee", [fee + 1]), [])
    chain.mine(deltatime=DAY)
    for step in (10, 10, 10):
        fee += step
        _set_fee(lender, governor, fee, keeper)
    with ape.reverts("governor: drift cap exceeded"):
        governor.check_risk(lender.address, call_data(lender, "set_fee", [fee + 1]), [])
    with ape.reverts("governor: drift cap exceeded"):  # back down counts too
        governor.check_risk(lender.address, call_data(lender, "set_fee", [fee - 1]), [])
    assert governor.check_risk(lender.address, call_data(lender, "set_fee", [fee]), [])  # no change: no drift


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(st.sampled_from([0, 0, 0, 60, 3_600, 3_600, DAY, 10 * DAY, 31 * DAY]),
                                st.sampled_from([-11, -5, -3, -2, -1, 1, 2, 3, 5, 11])), min_size=1, max_size=40))
def test_drift_never_exceeds_the_window_cap(project, chain, deployer, keeper, steps):
    with chain.isolate():
        lender, governor, ref = _governed_lender(project, deployer, keeper)
        for wait, move in steps:
            v = max(ref.value + move, 0)
            if wait:
                chain.mine(deltatime=wait)
            data = call_data(lender, "set_fee", [v])
            proof = _proof(lender, v)  # before the verdict: posting it mines a block
            t = chain.pending_timestamp
            expected = ref.verdict(t, v)
            event(expected or "passes")
            if expected is None:
                governor.set_risk(lender.address, data, proof, sender=keeper)
                ref.apply(chain.blocks.head.timestamp, v)
            else:
                with ape.reverts(expected):
                    governor.set_risk(lender.address, data, proof, sender=keeper)
            assert lender.fee_bps() == ref.value
        assert max_window_drift(ref.history, WINDOW) <= CAP
