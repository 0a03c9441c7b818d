"""`ape run capital_efficiency` (or `python scripts/capital_efficiency.py`): the requirement of
standard option books under full collateral, isolated, cross and portfolio margin.

Computed with the reference margin model (`dsi/reference/margin.py`) on the SVI surface
fitted to the real Deribit ETH chain (`data/svi_eth_2024-05-24.json`): 35-day expiry, calendar
against the 63-day one. Isolated = each short in its own account (standard formula alone).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dsi.reference import margin as M  # noqa: E402

DAY = 86_400


def load_market(path: Path = ROOT / "data" / "svi_eth_2024-05-24.json") -> tuple[M.Market, list[int]]:
    raw = json.loads(path.read_text())
    surfaces = {}
    for e in raw["expiries"]:
        tte = int(round(e["tte_days"] * DAY))
        surfaces[tte] = M.Svi(**e["params"])
    return M.Market(spot=raw["spot"], surfaces=surfaces), sorted(surfaces)


def table() -> list[dict]:
    market, ttes = load_market()
    near = min(ttes, key=lambda t: abs(t - 35 * DAY))
    far = min(ttes, key=lambda t: abs(t - 63 * DAY))
    rows = []
    for book in M.standard_books(market.spot, near, far):
        iso = sum(M.standard([p], market) for p in book.positions if p.amount < 0)
        rows.append({
            "book": book.name,
            "full": M.full_collateral(book.positions, market),
            "isolated": iso,
            "cross": M.standard(book.positions, market),
            "portfolio": M.portfolio(book.positions, market, weth=book.weth),
        })
    return rows


def main():
    rows = table()
    market, _ = load_market()
    print(f"Initial requirement in USD per 1-lot book, ETH spot {market.spot:,.2f} (Deribit 2024-05-24 surface)")
    print("| book | full collateral | isolated | cross | portfolio | portfolio / full |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        ratio = r["portfolio"] / r["full"] if r["full"] else float("nan")
        print(f"| {r['book']} | {r['full']:,.0f} | {r['isolated']:,.0f} | {r['cross']:,.0f} | "
              f"{r['portfolio']:,.0f} | {ratio:.0%} |")


if __name__ == "__main__":
    main()
