"""The scenario catalog: named stress scenarios with explicit pass criteria, each run per
liquidation mechanism.

A `Scenario` has a name, a description, the criteria it is graded on, the backend it runs on by
default (`"ape"`: the real anvil node; `"revm"`: in process, for volume) and a `run(ctx)` that
returns a `Result`: named `Check`s (passed, measured value, detail), per-step metrics
(`dsi.metrics`), headline metrics and chart series.

Mechanisms (`dsi.scenarios.mechanisms.available()`): `none` (nobody liquidates: the baseline that
measures what is at stake) and `dutch`, `fixed`, `dynamic` (the insurance fund, the mechanism and
the keeper agent wired in). A scenario with `needs="liquidation"` has nothing to measure under
`none` and is reported as skipped there, with the reason; one without a module yet is skipped
everywhere, never faked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

NEEDS_MECHANISM = "needs a liquidation mechanism (nothing to measure under none)"


@dataclass
class Check:
    name: str
    passed: bool
    value: object = None
    detail: str = ""


@dataclass
class Result:
    scenario: str
    mechanism: str
    backend: str = ""
    checks: list = field(default_factory=list)
    steps: list = field(default_factory=list)  # dsi.metrics step rows
    metrics: dict = field(default_factory=dict)  # headline numbers
    series: dict = field(default_factory=dict)  # chart data (price path, healths, deficits, ...)
    notes: list = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool | None:
        if self.skipped:
            return None
        return bool(self.checks) and all(c.passed for c in self.checks)

    def check(self, name: str, passed: bool, value=None, detail: str = "") -> None:
        self.checks.append(Check(name, bool(passed), value, detail))


class BackendMaker:
    """`make_backend(kind)` for a Context: "ape" (the connected network, through `project`,
    `accounts`, `chain`) or "revm" (in process). `close()` releases the Ape facades made so far
    (their deterministic clocks), as a run ends."""

    def __init__(self, project, accounts, chain):
        self.project, self.accounts, self.chain = project, accounts, chain
        self._facades = []

    def __call__(self, kind: str):
        from dsi.chain import ape_backend, revm_backend

        if kind == "ape":
            backend = ape_backend(self.project, self.accounts, self.chain)
            self._facades.append(backend.chain)
            return backend
        if kind == "revm":
            return revm_backend()
        raise ValueError(f"scenarios: unknown backend {kind!r} (expected 'ape' or 'revm')")

    def close(self) -> None:
        while self._facades:
            self._facades.pop().close()


@dataclass
class Context:
    """What a scenario runs with: a chain backend maker, parameters, the mechanism, options."""

    make_backend: Callable  # make_backend(kind) -> dsi.chain.Backend; kind in ("ape", "revm")
    params: object  # dsi.protocol.Params
    mechanism: str = "none"
    data: str = "../shared/data"
    quick: bool = False  # shortened runs (tests)
    seed: int = 20_200_312
    progress: Callable | None = None  # progress(fraction) for long scenarios
    # mechanisms whose runs of an "ape" scenario use the real node; the others run the same
    # scenario in process (`ape run stress` keeps the node for the deployment's own mechanism)
    real_node: tuple = ("none", "dutch", "fixed", "dynamic")
    # None: the world as the scenario builds it; "off" / "on": governed, without / with the stress
    # monitor (the scenarios that support it: the replays, Black Thursday, the Monte Carlo)
    governance: str | None = None

    def backend_for(self, scenario: "Scenario") -> str:
        if scenario.backend == "ape" and self.mechanism not in self.real_node:
            return "revm"
        return scenario.backend


@dataclass
class Scenario:
    name: str
    description: str
    criteria: tuple
    module: str  # dsi.scenarios.<module> with run(ctx, **kwargs)
    backend: str = "ape"
    kwargs: dict = field(default_factory=dict)
    needs: str | None = None
    weight: float = 1.0  # rough relative cost, for the progress bar

    def skips(self, mechanism: str) -> bool:
        """Nothing to run: not built yet, or it needs a liquidation mechanism and gets `none`."""
        return self.needs == "liquidation" and (mechanism == "none" or not self.module)

    def run(self, ctx: Context) -> Result:
        import time

        if self.skips(ctx.mechanism):
            return Result(self.name, ctx.mechanism, skipped=NEEDS_MECHANISM if self.module else "not built yet")
        t0 = time.perf_counter()
        module = importlib.import_module(f"dsi.scenarios.{self.module}")
        result = module.run(ctx, name=self.name, backend_kind=ctx.backend_for(self), **self.kwargs)
        result.seconds = time.perf_counter() - t0
        return result


def run_in_process(name: str, mechanism: str, params_file: str, data: str, quick: bool, real_node=(),
                   seed: int = 20_200_312):
    """One in-process (revm) run, for a worker process (`ape run stress --jobs`): the result
    with plain Python values."""
    import time as _time

    from dsi.protocol import Params

    ctx = Context(make_backend=BackendMaker(None, None, None), params=Params.from_file(params_file),
                  mechanism=mechanism, data=data, quick=quick, real_node=tuple(real_node), seed=seed)
    t0 = _time.perf_counter()
    result = get(name).run(ctx)
    result.seconds = _time.perf_counter() - t0
    return _plain(result)


def _plain(x):
    """Namedtuples from the in-process backend (classes made at run time) as plain tuples, so a
    result pickles back to the main process."""
    import dataclasses

    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            setattr(x, f.name, _plain(getattr(x, f.name)))
        return x
    if isinstance(x, tuple):
        return tuple(_plain(v) for v in x)
    if isinstance(x, list):
        return [_plain(v) for v in x]
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


REPLAYS = {
    # name: (file, window start, window end, what happened)
    "replay_2020_03_12": ("eth_usdt_5m_2020-03-12_binance.csv", "2020-03-12T00:00", "2020-03-13T12:00",
                          "Black Thursday: ETH 195 -> 86 in 26 hours"),
    "replay_2021_05_19": ("eth_usdt_1m_2021-05-19_binance.csv", "2021-05-19T00:00", "2021-05-20T00:00",
                          "China mining ban crash: ETH 3,400 -> 1,888 intraday"),
    "replay_2022_11_08": ("eth_usdt_5m_2022-11-08_binance.csv", "2022-11-08T00:00", "2022-11-10T00:00",
                          "FTX collapse: ETH 1,570 -> 1,074 over two days"),
    "replay_2024_08_05": ("eth_usdt_1m_2024-08-05_binance.csv", "2024-08-04T12:00", "2024-08-05T18:00",
                          "yen carry unwind: ETH 2,900 -> 2,111 overnight"),
    "replay_2025_10_10": ("eth_usdt_5m_2025-10-10_binance.csv", "2025-10-10T12:00", "2025-10-11T12:00",
                          "10 October 2025: -13% and -26% wicks in minutes"),
}

_REPLAY_CRITERIA = (
    "oracle within max_deviation of the market whenever FRESH",
    "a risk-increasing action is accepted only when the oracle is FRESH",
    "every account that went insolvent at market was below maintenance first (a warning before the loss)",
)

CATALOG: dict[str, Scenario] = {}


def register(s: Scenario) -> Scenario:
    CATALOG[s.name] = s
    return s


register(Scenario(
    "black_thursday", "Black Thursday (12 March 2020): -50% in three gaps (x0.80, x0.80, x0.78) against short puts "
    "(cross and portfolio, 1.2 x initial margin), six one-minute blocks per gap and 30 minutes after; the keeper "
    "acts every block (under none: only pokes, measuring what is at stake).",
    ("oracle FRESH five minutes after every gap", "every insolvent account flagged unhealthy", "no sale at zero",
     "resets re-anchor to the oracle price", "the fund's books balance", "what stays insolvent is recorded"),
    "black_thursday", backend="revm", weight=2))
register(Scenario(
    "flash_pump", "Same-block flash pump (bZx 2020, Inverse): the attacker borrows from the FlashLender, pumps the "
    "pool 10x and 50x, and tries to write and withdraw at the pumped price.",
    ("oracle mid-pump is the feed, flagged DEVIANT", "write at the pumped price refused",
     "withdrawal at the pumped price refused", "attacker PnL <= 0"),
    "attacks", kwargs={"attack": "flash_pump"}, weight=1))
register(Scenario(
    "twap_push", "Multi-block TWAP push: the attacker holds spot +30% for k consecutive blocks (no arbitrage in "
    "between) and tries to withdraw and write; cost vs gain printed.",
    ("TWAP moved by about k x 12 s / window of the push", "no profitable action (gain - cost <= 0)"),
    "attacks", backend="revm", kwargs={"attack": "twap_push"}, weight=1))
register(Scenario(
    "frozen_feed", "Frozen feed (LUNA 2022): the feed sticks at the start price while the market falls 90% in "
    "80 minutes; the writer keeps trying to open risk.",
    ("risk-increasing actions refused while the oracle disagrees with the market",
     "nothing valued at the frozen price once the market left it", "after max_age the price is the TWAP"),
    "oracle_faults", backend="revm", kwargs={"fault": "frozen"}, weight=1))
register(Scenario(
    "bad_print", "Bad print on one source (Compound DAI 2020, Binance USDe 2025): the feed prints +35% and later "
    "-40% for one update each while the market is honest.",
    ("no price returned at the bad print", "zero actions at the bad price", "last good price held"),
    "oracle_faults", backend="revm", kwargs={"fault": "bad_print"}, weight=1))
for _name, (_file, _start, _end, _what) in REPLAYS.items():
    register(Scenario(
        _name, f"Historical replay, {_what}: real Binance ETH/USDT closes ({_file}, {_start} .. {_end}) replayed one "
        "block per 5-minute bar against the standard book.",
        _REPLAY_CRITERIA, "replay", backend="revm", kwargs={"file": _file, "start": _start, "end": _end}, weight=3))
register(Scenario(
    "monte_carlo", "Monte Carlo: Merton jump-diffusion paths (one day, 5-minute steps; jumps calibrated on the "
    "crash files) against the standard book; distribution of deficits.",
    ("every account that went insolvent was below maintenance first, on every path",
     "a risk-increasing action is accepted only when the oracle is FRESH"),
    "monte_carlo", backend="revm", weight=6))
register(Scenario(
    "gap_past_fund", "Gap past the insurance fund (10 October 2025: -13% and then -26% in one update each) against "
    "leveraged short puts on a 1-day expiry with a 2,000 USD fund; the keeper liquidates what pays, then everything "
    "settles at expiry and the fund covers what it can.",
    ("losses flow fund -> socialisation, in that order", "every unit of bad debt is recorded (covered + socialised, "
     "per series)", "total claims <= total assets"),
    "gap_past_fund", backend="revm", weight=1))
register(Scenario(
    "donate_self_liquidate", "Donate then self-liquidate (Euler 2023): the attacker donates USD and WETH to the engine "
    "and the fund, tries to make its own levered account insolvent, then liquidates it from its second account after "
    "a 15% slide.",
    ("donations change no balance the protocol counts", "the owner cannot make its own account liquidatable",
     "self-liquidation PnL <= 0", "attacker PnL <= 0"),
    "self_liquidation", backend="revm", weight=0.5))
register(Scenario(
    "cascade", "Liquidation cascade (death spiral): a 15% drop hits leveraged short puts; the keeper hedges what it "
    "takes by selling WETH into a 150-WETH pool in 2% slices (partial arbitrage); cascade depth and slippage, and "
    "the same flow when the feed follows the pool (a long-tail listing), reported.",
    ("the spiral is bounded (prices liquidations use stay within 2 x max_spot_deviation of the market)",
     "the cascade ends"),
    "cascade", backend="revm", weight=2, needs="liquidation"))
register(Scenario(
    "dump_on_backstop", "Dump onto the backstop (Mango 2022, JELLY 2025): the attacker writes calls up to the "
    "open-interest cap from one account, holds the longs in another, the market jumps +25%; it tries to cash the "
    "longs' unrealised profit while the short side falls onto the keeper and the fund; all settles at expiry.",
    ("open-interest caps bound the position", "unrealised profit never counts as collateral",
     "the fund's loss is bounded by the open-interest cap"),
    "backstop", backend="revm", weight=1))
register(Scenario(
    "gas_spike_dust", "Gas spike and dust: eight minimum-size (0.01 option) puts at 1.02 x initial margin, a 25% "
    "slide, replayed from one snapshot with the keeper pricing gas at 30, 500 and 1,000 gwei; the liquidation reserve "
    "(gas compensation posted by the owner) is on.",
    ("at 500 gwei every dust account is liquidated at a profit",
     "at 1,000 gwei every dust account is liquidated at a profit"),
    "dust", backend="revm", weight=1, needs="liquidation"))
register(Scenario(
    "settlement_push", "Settlement push (issue 13's outside review): at the open-interest cap the attacker holds ATM "
    "vault longs bought from an honest writer and ITM engine shorts it wrote (calls and 1.1 puts to push up, puts and "
    "0.9 calls to push down), pushes the pool in the last block before expiry (x1.5, x4, x100 and /1.5, /4, /100, from "
    "its own capital), or as a validator holds x4 or /4 for k = 2..10 consecutive blocks, or flash-pumps at expiry "
    "through the FlashLender settling mid-pump; unwinds, then everything settles, pays in and is redeemed.",
    ("attacker PnL <= 0 at the true price (swap fees, flash fees and payoffs counted), every push",
     "holders paid in full (the payoff at the true price, nothing pending)"),
    "settlement_push", backend="revm", weight=1))
register(Scenario(
    "settle_order_grief", "Settlement order grief (issue 13's outside review): the buyer holds custody longs in a "
    "margin account; the attacker (or an innocent keeper, or the owner itself) settles that custody long before the writers "
    "(engine accounts, the vault) pay in, with all writers solvent and with one insolvent (the fund covers; under none "
    "the loss is socialised); then the shorts pay in and every holder settles, collects and redeems.",
    ("writers solvent: every holder paid in full (wallet + account + claims collected)",
     "a writer insolvent: every holder paid pro rata to funding",
     "the attacker gains nothing (no holder receives more than its share)"),
    "settle_order", backend="revm", weight=1))

register(Scenario(
    "owner_key_compromised", "Owner key compromised (issue 15's outside review: 118,571 USD in one block before the "
    "governor): the attacker holds the deployer key, which after deployment owns nothing and is the timelock's "
    "proposer; it tries the one-block rug (fund re-pointed and paid out, reserves, every account transferred, "
    "haircuts at their bounds), then queues it through the timelock while the guardian watches.",
    ("the one-block rug takes 0 USD", "everything queued was announced, pending the delay, and cancelled",
     "the governor refuses the loosest haircuts"),
    "owner_key", backend="revm", weight=0.5))
register(Scenario(
    "governance_flash_loan", "Governance flash loan (Beanstalk, April 2022: ~1B USD flash-borrowed into votes, 182M "
    "USD lost): the attacker's contract borrows the flash lender's whole USD balance and, holding it, queues a "
    "proposal, executes it, grants itself the proposer role, calls the governor's and the monitor's privileged "
    "paths and the fund; then makes the same calls without the loan.",
    ("every governance call fails while holding the loan", "the loan buys nothing: every outcome is the same without it",
     "nothing queued, the governor's record and the protocol's holdings unchanged", "the attacker is out the flash fee"),
    "governance_attacks", backend="revm", kwargs={"attack": "governance_flash_loan"}, weight=0.5))
register(Scenario(
    "guardian_abuse", "Guardian abuse: the attacker holds the guardian key and tries to loosen (a fixed word, a word "
    "against its direction), to over-tighten (two steps, a ratchet), to move funds (the governor's execute, the fund, "
    "the lender, the timelock), to take the other roles, and switches safe mode on.",
    ("the guardian never loosens and never moves funds", "one step of tightening, no ratchet, and it lapses by itself",
     "safe mode from the guardian stops only risk-increasing actions"),
    "governance_attacks", backend="revm", kwargs={"attack": "guardian_abuse"}, weight=0.5))

STANDARD_SUITE = tuple(CATALOG)


def get(name: str) -> Scenario:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"scenarios: unknown scenario {name!r} (known: {', '.join(CATALOG)})") from None
