"""The capital-efficiency table measured on chain equals the reference model within rounding."""

import pytest

from dsi.bench import capital

BOOKS = ("naked put", "call spread (short 1.1 / long 1.2)", "covered call",
         "calendar (short near / long far call)")


def test_on_chain_table_matches_reference(project, accounts, chain):
    table = capital.measure(project, accounts, chain, names=set(BOOKS))
    assert sorted(r["book"] for r in table["rows"]) == sorted(BOOKS)
    for row in table["rows"]:
        for mode in capital.MODES + ("portfolio_requirement",):
            assert row[mode] == pytest.approx(row[f"{mode}_reference"], rel=1e-9, abs=1e-6), (row["book"], mode)
        # Rounding is the protocol's: requirements on chain are never below the model's by more
        # than float noise.
        assert row["cross"] >= row["cross_reference"] - 1e-9
    rows = {r["book"]: r for r in table["rows"]}
    # The figures mean something: full collateral locks the strike of the put, spot for the call;
    # portfolio margin credits the spread's long leg, cross margin does not.
    assert rows["naked put"]["full"] == pytest.approx(3350.0)
    assert rows["covered call"]["full"] == pytest.approx(table["spot"])
    spread = rows["call spread (short 1.1 / long 1.2)"]
    assert spread["portfolio"] < spread["cross"] / 2 < spread["full"]
