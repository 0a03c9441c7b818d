"""The governance scenarios of the catalog (issue 15 §5): `owner_key_compromised`."""

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
