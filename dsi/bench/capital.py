"""Capital efficiency on chain: what the standard option books need under full collateral,
isolated, cross and portfolio margin, measured on a deployed protocol next to the reference.

The market is the SVI surface fitted to the real Deribit ETH chain
(`data/svi_eth_2024-05-24.json`): the protocol is deployed at its spot, the 35-day slice (and the
63-day one for the calendar) pushed to the vol feed, and every book of
`dsi/reference/margin.py::standard_books` (1 lot: options on 1 WETH) is built by the writer:

- full collateral: each short leg written in the OptionsVault; the figure is what the vault
  locks (a call's WETH at the oracle price, a put's strike in USD);
- isolated: each short leg alone in its own isolated sub-account; the sum of the engine's
  initial requirements;
- cross / portfolio: the whole book in one sub-account of that mode (longs written in the
  vault and deposited into the account, so they get credit where the mode gives it; the
  covered call's 1 WETH held as collateral, revalued in the portfolio scenarios).

The figure compared is the capital the book needs: the (haircut) collateral value an account
must hold for its equity to reach the engine's initial requirement. In isolated and cross
margin equity is the collateral and the requirement already contains each short's mark, so it
is the requirement itself; in portfolio margin equity is collateral plus the signed marks, so
it is the requirement minus the book's mark value (a net short adds its premium). The
portfolio requirement alone is kept in the JSON (`portfolio_requirement`). For the covered call
the book's own 1 WETH is part of that collateral (worth 85% of spot after the haircut).

Each figure is read at the chain's latest block, and the reference (`dsi/reference/margin.py`)
is evaluated at the same spot and times to expiry, so the two differ by rounding only (the
contracts round requirements up). All figures in USD.
"""

from __future__ import annotations

import json
from pathlib import Path

from dsi.protocol import Params, deploy, deploy_margin
from dsi.reference import margin as M

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "data" / "svi_eth_2024-05-24.json"
REPORT = ROOT / "reports" / "capital_efficiency.json"
WAD = 10**18
DAY = 86_400
MODES = ("full", "isolated", "cross", "portfolio")
ISOLATED, CROSS, PORTFOLIO = 0, 1, 2


def load_market(path: Path = DATA) -> tuple[M.Market, list[int], dict]:
    raw = json.loads(path.read_text())
    surfaces = {int(round(e["tte_days"] * DAY)): M.Svi(**e["params"]) for e in raw["expiries"]}
    return M.Market(spot=raw["spot"], surfaces=surfaces), sorted(surfaces), raw


def tenors(ttes: list[int]) -> tuple[int, int]:
    """The 35-day expiry of the books and the 63-day one the calendar is long."""
    return min(ttes, key=lambda t: abs(t - 35 * DAY)), min(ttes, key=lambda t: abs(t - 63 * DAY))


def reference_rows(market: M.Market, near: int, far: int, names=None) -> list[dict]:
    """The reference model alone (float USD), books at `market`."""
    rows = []
    for book in M.standard_books(market.spot, near, far):
        if names and book.name not in names:
            continue
        rows.append(_reference(book, market))
    return rows


def _reference(book: M.Book, market: M.Market) -> dict:
    return {
        "book": book.name,
        "full": M.full_collateral(book.positions, market),
        "isolated": sum(M.standard([p], market) for p in book.positions if p.amount < 0),
        "cross": M.standard(book.positions, market),
        "portfolio": M.portfolio_capital(book.positions, market, weth=book.weth),
        "portfolio_requirement": M.portfolio(book.positions, market, weth=book.weth),
    }


def measure(project, accounts, chain, names=None) -> dict:
    """Deploy, build every book (or those in `names`) and return the on-chain table with the
    reference beside it: {"spot", "snapshot", "rows": [{book, <mode>, <mode>_reference}]}."""
    market, ttes, raw = load_market()
    near, far = tenors(ttes)
    p = deploy_margin(project, deploy(project, accounts, Params(spot=market.spot)))
    d, writer = p.deployer, p.writer
    now = chain.blocks.head.timestamp
    expiries = {near: now + near, far: now + far}
    for tte, expiry in expiries.items():
        s = market.surfaces[tte]
        p.vol_feed.push(expiry, *(int(round(x * WAD)) for x in (s.a, s.b, s.rho, s.m, s.sigma)), sender=p.reporter)
    big_usd, big_weth = 10**14, 1_000 * WAD  # 100M USD, 1,000 WETH
    for token, amount in ((p.usd, big_usd), (p.weth, big_weth)):
        token.mint(writer, amount, sender=d)
        token.approve(p.vault.address, amount, sender=writer)
        token.approve(p.engine.address, amount, sender=writer)
    p.option_token.setApprovalForAll(p.engine.address, True, sender=writer)

    def series_id(pos: M.Position) -> int:
        strike, expiry = int(pos.strike) * WAD, expiries[pos.tte]
        sid = p.series.find_series(strike, expiry, pos.is_call, False)
        if sid == 0:
            p.series.list_series(strike, expiry, pos.is_call, False, sender=d)
            sid = p.series.find_series(strike, expiry, pos.is_call, False)
        return sid

    def units(pos: M.Position) -> int:
        return int(round(abs(pos.amount) * WAD))

    def reference_now(book: M.Book) -> tuple[M.Book, M.Market]:
        """The book and market at the latest block's spot and times to expiry."""
        t = chain.blocks.head.timestamp
        spot = p.oracle.price()[0] / WAD
        left = {tte: expiry - t for tte, expiry in expiries.items()}
        surfaces = {left[tte]: market.surfaces[tte] for tte in expiries}
        positions = [M.Position(x.strike, left[x.tte], x.is_call, x.amount) for x in book.positions]
        return M.Book(book.name, positions, book.weth), M.Market(spot=spot, surfaces=surfaces)

    rows = []
    sub = 0
    for book in M.standard_books(market.spot, near, far):
        if names and book.name not in names:
            continue
        shorts = [x for x in book.positions if x.amount < 0]
        longs = [x for x in book.positions if x.amount > 0]
        row = {"book": book.name}
        # Full collateral: what the vault locks for the short legs.
        full = 0
        spot = p.oracle.price()[0]
        for x in shorts:
            usd0, weth0 = p.usd.balanceOf(writer), p.weth.balanceOf(writer)
            p.vault.write(series_id(x), units(x), sender=writer)
            full += (usd0 - p.usd.balanceOf(writer)) * 10**12 + (weth0 - p.weth.balanceOf(writer)) * spot // WAD
        ref_book, ref_market = reference_now(book)
        row["full"], row["full_reference"] = full / WAD, M.full_collateral(ref_book.positions, ref_market)
        # Isolated: each short alone in its own (isolated, mode 0) sub-account.
        iso_subs = []
        for x in shorts:
            sub += 1
            p.engine.deposit(sub, 10**12, 0, sender=writer)
            p.engine.open_short(sub, series_id(x), units(x), sender=writer)
            iso_subs.append(sub)
        row["isolated"] = sum(p.engine.margin(writer, s).initial for s in iso_subs) / WAD
        ref_book, ref_market = reference_now(book)
        row["isolated_reference"] = sum(M.standard([x], ref_market) for x in ref_book.positions if x.amount < 0)
        # Cross and portfolio: the whole book in one account (longs written in the vault, deposited).
        for mode, code in (("cross", CROSS), ("portfolio", PORTFOLIO)):
            sub += 1
            weth = int(round(book.weth * WAD)) if code == PORTFOLIO else 0
            p.engine.deposit(sub, 10**12, weth, sender=writer)
            p.engine.set_mode(sub, code, sender=writer)
            for x in longs:
                p.vault.write(series_id(x), units(x), sender=writer)
                p.engine.deposit_long(sub, series_id(x), units(x), sender=writer)
            for x in shorts:
                p.engine.open_short(sub, series_id(x), units(x), sender=writer)
            initial = p.engine.margin(writer, sub).initial
            ref_book, ref_market = reference_now(book)
            if code == CROSS:
                row[mode] = initial / WAD
                row[f"{mode}_reference"] = M.standard(ref_book.positions, ref_market)
            else:
                positions = [(x.id, x.amount) for x in p.engine.positions(writer, sub)]
                value = p.risk_arrays.evaluate(positions, weth, p.oracle.price()[0], False, True).value
                row[mode] = (initial - min(value, 0)) / WAD  # positive marks do not count (realised equity)
                row[f"{mode}_reference"] = M.portfolio_capital(ref_book.positions, ref_market, weth=book.weth)
                row["portfolio_requirement"] = initial / WAD
                row["portfolio_requirement_reference"] = M.portfolio(ref_book.positions, ref_market, weth=book.weth)
        rows.append(row)
    return {
        "surface": raw["source"],
        "snapshot": raw["snapshot"],
        "spot": p.oracle.price()[0] / WAD,
        "expiry_days": [near / DAY, far / DAY],
        "units": "USD per 1-lot book (options on 1 WETH): collateral value needed to meet initial margin",
        "rows": rows,
    }


def format_table(table: dict) -> str:
    lines = [
        f"Capital needed (USD of collateral value to meet initial margin) per 1-lot book, ETH {table['spot']:,.2f}, Deribit surface of "
        f"{table['snapshot'][:10]} ({table['expiry_days'][0]:.0f}-day expiry; calendar long the "
        f"{table['expiry_days'][1]:.0f}-day). On-chain (anvil) / reference model.",
        "",
        "| book | full collateral | isolated | cross | portfolio | portfolio / full |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in table["rows"]:
        cells = [f"{r[m]:,.2f} / {r[m + '_reference']:,.2f}" for m in MODES]
        ratio = r["portfolio"] / r["full"] if r["full"] else float("nan")
        lines.append(f"| {r['book']} | " + " | ".join(cells) + f" | {ratio:.1%} |")
    return "\n".join(lines)


def write(table: dict, path: Path = REPORT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=2) + "\n")
    return path
