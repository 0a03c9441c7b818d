"""The stress monitor in the lab (issue 15 §2): the same scenario governed without and with the
monitor (`dsi.scenarios.monitor_table`), on the in-process chain, shortened runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsi.scenarios.monitor_table import markdown, run_one, verdicts

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="module")
def black_thursday_rows():
    return [run_one("black_thursday", "black_thursday", "black_thursday", None, "dutch", g, str(DATA), True)
            for g in ("off", "on")]


def test_black_thursday_with_the_monitor_reaches_safe_mode_and_costs_no_more(black_thursday_rows):
    off, on = black_thursday_rows
    assert off["max_stress_level"] == 0 and off["stressed_share"] == 0  # no monitor: never stressed
    assert on["max_stress_level"] == 3  # a 20% gap is 20% off the trailing price: the top level
    assert on["stressed_share"] > 0.5
    assert on["capital_usd"] == off["capital_usd"]  # the book is built calm: the same capital
    assert on["bad_debt_usd"] <= off["bad_debt_usd"] + 1e-9
    assert on["fund_drawdown_usd"] <= off["fund_drawdown_usd"] + 1e-9
    assert on["liquidations"] >= off["liquidations"]  # raised maintenance deleverages sooner
    assert verdicts(black_thursday_rows)["worse"] == []
    table = markdown(black_thursday_rows)
    assert table.count("\n") == 2 and "| black_thursday | dutch |" in table


def test_a_calm_market_leaves_the_capital_required_unchanged():
    rows = [run_one("monte_carlo_calm", "monte_carlo", "monte_carlo", {"jumps": False}, "fixed", g, str(DATA), True)
            for g in ("off", "on")]
    off, on = rows
    assert on["max_stress_level"] == 0 and on["stressed_share"] == 0
    assert abs(on["mean_initial_usd"] / off["mean_initial_usd"] - 1) < 0.01
    assert verdicts(rows)["calm_capital_change"] == pytest.approx(0.0, abs=0.01)
