"""The stress report: report.md (how to read it first, then one section per scenario x
mechanism with its criteria and metrics), one PNG per run (price path, health distribution,
deficit / bad debt; fund balance once liquidation lands), summary.json, and the console table."""

from dsi.report.write import summary_rows, summary_table, write_report  # noqa: F401
