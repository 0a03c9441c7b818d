"""Metrics helpers, the data loader and the report writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy.stats import norm

from dsi import data
from dsi.metrics import quantiles, warned_before_loss
from dsi.report import summary_table, write_report
from dsi.scenarios import CATALOG, Check, Result

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _steps(rows):
    return [{"accounts": [{"health": h, "net_value": v} for h, v in step]} for step in rows]


def test_warned_before_loss_needs_the_warning_at_or_before_the_loss():
    warned = _steps([[(1.5, 10)], [(0.9, 5)], [(0.2, -3)]])
    same_step = _steps([[(1.5, 10)], [(0.5, -1)]])
    unwarned = _steps([[(1.5, 10)], [(1.2, -1)]])
    assert warned_before_loss(warned) == (True, 0)
    assert warned_before_loss(same_step) == (True, 0)
    assert warned_before_loss(unwarned) == (False, 1)


def test_quantiles_are_nearest_rank():
    q = quantiles(list(range(1, 101)))
    assert (q["p50"], q["p95"], q["p99"], q["max"]) == (50, 95, 99, 100)


def test_one_minute_files_become_five_minute_closes():
    bars = data.load_bars("eth_usdt_1m_2024-08-05_binance.csv", "2024-08-05T00:00", "2024-08-05T01:00", folder=str(DATA))
    assert len(bars) == 12 and bars[1][0] - bars[0][0] == 300
    minute = {r[0]: r[1] for r in data._rows(DATA / "eth_usdt_1m_2024-08-05_binance.csv",
                                            "2024-08-05T00:00", "2024-08-05T01:00")}
    assert bars[0][1] == minute[bars[0][0] + 240]  # the close of the bar's fifth minute


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(data.DataMissing, match="no market data folder at .*--data PATH"):
        data.data_dir(str(tmp_path / "nowhere"))


def test_dvol_is_the_day_before():
    assert data.dvol("2024-08-05", folder=str(DATA)) == pytest.approx(0.6827)  # 4 August close
    assert data.dvol("2020-03-12", folder=str(DATA)) is None


def test_book_delta_reference_is_black76_on_the_skew():
    # the metric's pricer agrees with an independent closed form at a flat point of the skew
    from dsi.reference import pricing as ref

    spot, strike, tau, vol = 3000.0, 2700.0, 30 / 365, 0.8
    d1 = (__import__("math").log(spot / strike) + 0.5 * vol**2 * tau) / (vol * tau**0.5)
    assert ref.greeks(spot, strike, tau, vol, 0.0, False)["delta"] == pytest.approx(norm.cdf(d1) - 1, rel=1e-9)


def test_report_writes_markdown_charts_and_summary(tmp_path):
    ok = Result("bad_print", "none", "ape", checks=[Check("last good price held", True, 3000.0, "held")],
                metrics={"max_deficit_usd": 0.0, "attacker_pnl_usd": None},
                series={"t": [1, 2, 3], "market": [3000, 3000, 3000], "oracle": [3000, 3000, 3000],
                        "deficit": [0, 0, 0], "healths_start": [1.5, 2.0], "healths_end": [1.4, 2.1]}, seconds=1.0)
    bad = Result("flash_pump", "none", "ape", checks=[Check("attacker PnL <= 0", False, 5.0, "profit")],
                 metrics={"attacker_pnl_usd": 5.0}, series={}, seconds=2.0)
    skipped = Result("cascade", "none", skipped="needs liquidation (branch liquidation)")
    folder = write_report([ok, bad, skipped], tmp_path / "r", {"generated": "now", "total_seconds": 3.0,
                                                                "mechanisms": ["none"]}, CATALOG)
    md = (folder / "report.md").read_text()
    assert md.index("How to read") < md.index("## bad_print x none: PASS") < md.index("## flash_pump x none: FAIL")
    assert "needs liquidation (branch liquidation)" in md
    assert (folder / "bad_print__none.png").stat().st_size > 10_000
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["passed"] is False
    assert [(e["scenario"], e["mechanism"], e["passed"]) for e in summary["runs"]] == [
        ("bad_print", "none", True), ("flash_pump", "none", False), ("cascade", "none", None)]
    assert "| flash_pump | none | ape | FAIL | 0/1 |" in summary_table([bad])
