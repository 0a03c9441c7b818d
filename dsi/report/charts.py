"""PNG charts, readable without the text: each figure names its scenario, mechanism and
verdict, and every axis is labelled with its unit."""

from __future__ import annotations

from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HEALTH_CLIP = 5.0


def _times(ts):
    return [datetime.fromtimestamp(t, timezone.utc) for t in ts]


def run_chart(result, path) -> None:
    s = result.series
    verdict = "SKIPPED" if result.skipped else ("PASS" if result.passed else "FAIL")
    fig, axes = plt.subplots(1, 4, figsize=(21, 4.6))
    fig.suptitle(f"{result.scenario} - mechanism: {result.mechanism} - {verdict}", fontsize=13,
                 color={"PASS": "darkgreen", "FAIL": "darkred"}.get(verdict, "gray"))

    ax = axes[0]
    if "paths" in s:
        steps = range(len(s["paths"][0]))
        for prices in s["paths"]:
            ax.plot(steps, prices, lw=0.6, alpha=0.5)
        ax.set_xlabel("step (15 min)")
        ax.set_title(f"price paths ({len(s['paths'])} shown)")
    elif s.get("t"):
        x = list(range(len(s["t"])))
        ax.plot(x, s["market"], label="market", lw=1.4)
        ax.plot(x, s["oracle"], label="protocol oracle", lw=1.0, ls="--")
        ax.set_xlabel("step")
        ax.set_title("price path")
        ax.legend(loc="best", fontsize=8)
    ax.set_ylabel("USD per ETH")

    ax = axes[1]
    start = [min(h, HEALTH_CLIP) for h in s.get("healths_start", [])]
    end = [min(h, HEALTH_CLIP) for h in s.get("healths_worst", s.get("healths_end", []))]
    bins = [i * 0.25 for i in range(int(HEALTH_CLIP / 0.25) + 1)]
    if start:
        ax.hist(start, bins=bins, alpha=0.6, label="start")
    if end:
        ax.hist(end, bins=bins, alpha=0.6, label="worst step" if "healths_worst" in s else "end")
    ax.axvline(1.0, color="red", lw=1, label="maintenance (health 1)")
    ax.set_xlabel(f"account health = equity / maintenance (clipped at {HEALTH_CLIP:g})")
    ax.set_ylabel("accounts")
    ax.set_title("health distribution")
    ax.legend(loc="best", fontsize=8)

    ax = axes[2]
    if "worst_deficits" in s:
        ax.hist(s["worst_deficits"], bins=20, label="worst deficit per path")
        ax.set_xlabel("USD")
        ax.set_ylabel("paths")
        ax.set_title("deficit distribution")
    elif s.get("deficit"):
        x = list(range(len(s["deficit"])))
        ax.plot(x, s["deficit"], label="deficit (negative net value at market)", color="darkred")
        ax.plot(x, s.get("bad_debt", [0.0] * len(x)), label="recorded bad debt", color="black", ls=":")
        if any(s.get("socialised", [])):
            ax.plot(x, s["socialised"], label="socialised loss", color="purple", ls="--")
        ax.set_xlabel("step")
        ax.set_ylabel("USD")
        ax.set_title("deficit / bad debt / socialised loss")
    ax.legend(loc="best", fontsize=8)

    ax = axes[3]
    if s.get("fund_balance"):
        x = list(range(len(s["fund_balance"])))
        ax.plot(x, s["fund_balance"], label="insurance fund capital", color="navy")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("step")
        ax.set_ylabel("USD")
        ax.set_title("insurance fund balance")
        ax.legend(loc="best", fontsize=8)
    elif "fund_drawdowns" in s:
        ax.hist(s["fund_drawdowns"], bins=20, color="navy", label="fund drawdown per path")
        ax.set_xlabel("USD")
        ax.set_ylabel("paths")
        ax.set_title("insurance fund drawdown distribution")
        ax.legend(loc="best", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no insurance fund\n(mechanism: none)", ha="center", va="center", fontsize=12,
                color="gray", transform=ax.transAxes)
        ax.set_title("insurance fund balance")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
