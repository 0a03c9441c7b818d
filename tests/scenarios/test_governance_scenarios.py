"""The governance scenarios of the catalog (issue 15 §5): `owner_key_compromised`,
`governance_flash_loan`, `guardian_abuse`."""

from __future__ import annotations

import pytest

from dsi.scenarios import get

MECHANISMS = ("none", "dutch", "fixed", "dynamic")


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_the_compromised_owner_key_takes_nothing(lab, mechanism):
    r = get("owner_key_compromised").run(lab(mechanism=mechanism))
    c = {x.name: x for x in r.checks}
    assert r.passed, [(x.name, x.detail) for x in r.checks if not x.passed]
    print(*(f"{x.name}: {x.value} ({x.detail})" for x in r.checks), sep="\n")
    rug = c["the one-block rug takes 0 USD"]
    assert rug.value == 0
    assert "0 succeeded" in rug.detail
    assert "ownable: caller is not the owner" in rug.detail
    assert "margin: not liquidator" in rug.detail  # transfer_share of every account
    queued = c["everything queued was announced, pending the delay, and cancelled"]
    assert queued.value == (3 if mechanism != "none" else 2)
    assert "executed after the guardian's cancellation: 0" in queued.detail
    assert c["the governor refuses the loosest haircuts"].value == "governor: step too large"


@pytest.mark.parametrize("mechanism", ("none", "dutch"))
def test_a_flash_loan_buys_no_governance_power(lab, mechanism):
    r = get("governance_flash_loan").run(lab(mechanism=mechanism))
    c = {x.name: x for x in r.checks}
    assert r.passed, [(x.name, x.detail) for x in r.checks if not x.passed]
    assert r.metrics["borrowed_usd"] == 30_000_000 and r.metrics["succeeded"] == 0
    assert r.metrics["calls"] == (12 if mechanism != "none" else 9)
    loan = c["every governance call fails while holding the loan"].detail
    for reason in ("access_control: account is missing role", "governor: not timelock", "governor: not monitor",
                   "ownable: caller is not the owner"):
        assert reason in loan, reason
    assert r.metrics["attacker_pnl_usd"] == pytest.approx(-15_000)  # 5 bps of 30M USD


@pytest.mark.parametrize("mechanism", ("none", "fixed"))
def test_the_guardian_key_can_only_tighten_one_step_for_a_week(lab, mechanism):
    r = get("guardian_abuse").run(lab(mechanism=mechanism))
    c = {x.name: x for x in r.checks}
    assert r.passed, [(x.name, x.detail) for x in r.checks if not x.passed]
    abuse = c["the guardian never loosens and never moves funds"].detail
    assert "accepted: none" in abuse
    for reason in ("governor: guardian cannot change this", "governor: guardian only tightens",
                   "governor: step too large", "governor: not timelock", "governor: not monitor",
                   "ownable: caller is not the owner"):
        assert reason in abuse, reason
    assert c["one step of tightening, no ratchet, and it lapses by itself"].value == pytest.approx(0.2)
