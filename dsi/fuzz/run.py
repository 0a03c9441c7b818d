"""Run the invariant fuzzer with a profile and record its figures.

    python -m dsi.fuzz quick        # what CI runs (also inside `make test`)
    python -m dsi.fuzz deep         # `make fuzz`: >= 1,000,000 contract calls

Prints examples, steps, contract calls, calls per second and every invariant with the number
of times it was checked, and writes them under the profile's name into reports/fuzz.json.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from dsi.fuzz import machine

MECHANISMS = ("dutch", "fixed", "dynamic")
REPORT = Path(__file__).resolve().parents[2] / "reports" / "fuzz.json"

# quick: deterministic (derandomized) so CI is reproducible; >= 20,000 calls (~300,000 in ~1 minute).
# deep: random, >= 1,000,000 calls; run it with `make fuzz` and put the figures in docs/fuzzing.md.
PROFILES = {
    "quick": dict(max_examples=48, stateful_step_count=50, derandomize=True, min_calls=20_000),
    "deep": dict(max_examples=240, stateful_step_count=80, derandomize=False, min_calls=1_000_000),
}


def run(profile: str = "quick") -> dict:
    if profile not in PROFILES:
        raise SystemExit(f"fuzz: unknown profile {profile!r} (expected one of {sorted(PROFILES)})")
    conf = PROFILES[profile]
    for mechanism in MECHANISMS:
        machine.world(mechanism)  # build and snapshot the worlds outside the timed run
    machine.STATS.reset()
    per_mechanism = {}
    for mechanism in MECHANISMS:  # the same machine under each liquidation mechanism in turn
        machine.MECHANISM = mechanism
        calls_before = machine.STATS.calls
        run_state_machine_as_test(
            machine.ProtocolMachine,
            settings=settings(
                max_examples=conf["max_examples"] // len(MECHANISMS), stateful_step_count=conf["stateful_step_count"],
                derandomize=conf["derandomize"], deadline=None, database=None, print_blob=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
        per_mechanism[mechanism] = machine.STATS.calls - calls_before
    figures = machine.STATS.as_dict()
    figures["calls_per_mechanism"] = per_mechanism
    figures.update(profile=profile, min_calls=conf["min_calls"], python=platform.python_version(),
                   finished=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return figures


def record(figures: dict, path: Path = REPORT) -> Path:
    data = json.loads(path.read_text()) if path.exists() else {}
    data[figures["profile"]] = figures
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def summary(figures: dict) -> str:
    lines = [f"fuzz profile {figures['profile']}: {figures['examples']} examples, {figures['steps']} steps, "
             f"{figures['calls']:,} contract calls in {figures['seconds']} s "
             f"({figures['calls_per_second']:,.0f} calls/s)",
             f"invariants checked ({len(figures['invariants'])}):"]
    lines += [f"  {name:<52} {n:>8,}" for name, n in figures["invariants"].items()]
    lines.append("documented reverts seen: " + ", ".join(f"{k} x{v}" for k, v in figures["reverts"].items()))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    profile = argv[0] if argv else "quick"
    figures = run(profile)
    print(summary(figures))
    print(f"wrote {record(figures)}")
    if figures["calls"] < figures["min_calls"]:
        print(f"fuzz: only {figures['calls']:,} calls, the {profile} profile needs {figures['min_calls']:,}")
        return 1
    return 0
