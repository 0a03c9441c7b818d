"""`ape run stress` (`make stress`): run the scenario catalog per liquidation mechanism, print a
summary table, write stress-reports/<UTC time>/report.md + PNG charts + summary.json, and exit
non-zero when any scenario fails its criteria.

Scenarios marked `ape` run on the connected network (default: a local anvil that Ape starts),
each inside a snapshot that is reverted afterwards, for the parameter file's mechanism (the one
a deployment wires; `--real-node all`: every mechanism), and in process for the others; `revm` scenarios (long replays, Monte Carlo)
run in process on the same bytecode, in `--jobs` worker processes (default 2: this machine's
cores) while the `ape` runs proceed on the node.

    ape run stress                                   # the standard suite
    ape run stress --scenario flash_pump --scenario replay_2020_03_12 --params params/default.toml
    ape run stress --quick                           # shortened runs
    ape run stress --mechanism dutch --jobs 1        # one mechanism, serially
    ape run stress --attest --attester ALIAS         # post the report's digest to the registry
    ape run stress --verify 0xUID --attest           # re-run an attested report, post the verdict

Every report carries its digest (`dsi.attest`: same code, parameters, data and seed -> same
digest). `--attest` posts the claim (digest, code commit, parameter-set digest, scenario set,
paths, seed, verdict, worst and p99 bad debt, fund drawdown) to the `AttestationRegistry` named by
`--registry` (default: the deployment manifest's for the connected chain; on a local chain
without one, a new registry is deployed and its address printed). `--verify UID` reads that
claim, runs with its seed, checks the parameter file and scenario set give the attested digests,
compares report digests and exits non-zero on a mismatch; with `--attest` it also posts the
verification (what the governor's gate counts toward a loosening).
"""

import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click
from ape.cli import ConnectedProviderCommand, network_option

ROOT = Path(__file__).resolve().parent.parent


@click.command(cls=ConnectedProviderCommand, short_help="Run the DSI stress lab")
@network_option()
@click.option("--scenario", "names", multiple=True, help="Scenario name (repeatable); default: the standard suite")
@click.option("--params", "params_file", default=str(ROOT / "params" / "default.toml"), show_default=True,
              type=click.Path(dir_okay=False), help="Protocol parameter file (TOML)")
@click.option("--data", "data", default="../shared/data", show_default=True,
              help="Folder of the real market data (SOURCES.md)")
@click.option("--mechanism", "mechs", multiple=True, help="Liquidation mechanism (repeatable); default: all available")
@click.option("--quick", is_flag=True, help="Shortened runs (as the tests run them)")
@click.option("--out", default=str(ROOT / "stress-reports"), show_default=True, type=click.Path(file_okay=False))
@click.option("--real-node", "real_node", type=click.Choice(["deployed", "all"]), default="deployed", show_default=True,
              help="Which mechanisms run the node scenarios on the real node: the parameter file's mechanism "
                   "(the others in process, same bytecode), or all of them")
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(0, 16),
              help="Worker processes for the in-process (revm) scenarios; 0 runs them in this process")
@click.option("--seed", default=None, type=int, help="Monte Carlo seed (default 20200312; --verify: the attested one)")
@click.option("--attest", is_flag=True, help="Post the report's claim (or, with --verify, the verification)")
@click.option("--verify", "verify_uid", default=None, help="Re-run the stress attestation with this uid and compare")
@click.option("--registry", "registry_address", default=None, help="AttestationRegistry address")
@click.option("--attester", default=None,
              help="Account alias that attests (TEST::N for ape's test accounts; default on a local chain: TEST::0)")
@click.option("--allow-dirty", is_flag=True, help="Attest although the sources differ from the git commit")
def cli(network, names, params_file, data, mechs, quick, out, real_node, jobs, seed, attest, verify_uid,
        registry_address, attester, allow_dirty):
    from ape import accounts, chain, project

    from dsi import data as market_data
    from dsi.protocol import Params
    from dsi.report import summary_table, write_report
    from dsi.report.write import verdict
    from dsi.scenarios import CATALOG, STANDARD_SUITE, BackendMaker, Context, get, mechanisms, run_in_process

    from ape.logging import logger

    logger.set_level("WARNING")  # one "Confirmed ..." line per transaction would bury the table
    t0 = time.perf_counter()
    params = Params.from_file(params_file)
    try:
        market_data.data_dir(data)
    except market_data.DataMissing as e:
        raise click.ClickException(str(e))
    scenarios = [get(n) for n in (names or STANDARD_SUITE)]
    available = mechanisms.available()
    mechs = mechs or available
    for m in mechs:
        if m not in available:
            raise click.ClickException(f"stress: mechanism {m!r} is not available (available: {', '.join(available)})")

    from dsi import attest as att

    registry = sender = posted = None
    if attest or verify_uid:
        registry = _registry(project, chain, registry_address)
        sender = _attester(accounts, chain, attester) if attest else None
    if verify_uid:
        try:
            posted = att.read_claim(registry, verify_uid)
        except ValueError as e:
            raise click.ClickException(str(e))
        if seed is not None and seed != posted.claim.seed:
            raise click.ClickException(f"stress: --seed {seed} but the attestation was made with {posted.claim.seed}")
        seed = posted.claim.seed
    seed = att.DEFAULT_SEED if seed is None else seed
    if attest and not verify_uid and not allow_dirty and att.code_commit()[1]:
        raise click.ClickException("stress: --attest with sources that differ from the git commit: nobody could "
                                   "re-run them (commit first, or --allow-dirty)")

    make_backend = BackendMaker(project, accounts, chain)

    runs = [(s, m) for s in scenarios for m in mechs]
    node = tuple(mechs) if real_node == "all" else (params.mechanism,)
    params_digest = att.params_digest(params)
    head = att.header(params, params_file, data, seed, [(s.name, m) for s, m in runs], quick, node, params_digest)
    if posted is not None:
        problems = []
        if posted.claim.params_digest != params_digest:
            problems.append(f"parameter set 0x{params_digest.hex()} != attested 0x{posted.claim.params_digest.hex()}")
        if posted.claim.scenario_set_digest.hex() != head["scenario_set"][2:]:
            problems.append("the scenario set (scenarios x mechanisms, --quick, --real-node) is not the attested one")
        if problems:
            raise click.ClickException("stress: cannot verify " + verify_uid + ": " + "; ".join(problems))
    total = sum(max(s.weight, 0.05) for s, _ in runs)
    results: dict[int, object] = {}
    with click.progressbar(length=1000, label="stress", show_eta=True, show_percent=True,
                           item_show_func=lambda x: x) as bar:
        state = {"done": 0.0}

        def advance(share, label, result=None):
            if result is not None and bar.is_hidden:  # no terminal: one line per finished run instead
                click.echo(f"  {label}: {verdict(result)} in {result.seconds:.1f} s", err=True)
            state["done"] += share
            target = int(1000 * state["done"] / total)
            if target > bar.pos:
                bar.update(target - bar.pos, label)

        pool = futures = None
        on_node = lambda s, m: s.backend == "ape" and m in node  # noqa: E731
        in_process = [i for i, (s, m) in enumerate(runs) if not on_node(s, m) and not s.skips(m)]
        if jobs and in_process:
            import multiprocessing
            import os
            from concurrent.futures import ProcessPoolExecutor

            # the workers import dsi from this project: a spawned worker starts from this process's
            # sys.path, where `ape run` may not have put the project
            import sys as _sys

            import dsi

            home = str(Path(dsi.__file__).resolve().parents[1])
            if home not in _sys.path:
                _sys.path.insert(0, home)

            # workers at a lower priority (the node runs keep theirs), heaviest runs first
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=os.nice, initargs=(5,))
            order = sorted(in_process, key=lambda i: -runs[i][0].weight)
            futures = {pool.submit(run_in_process, runs[i][0].name, runs[i][1], params_file, data, quick, node,
                                   seed): i
                       for i in order}
        try:
            for i, (s, m) in enumerate(runs):
                if futures is not None and i in in_process:
                    continue
                ctx = Context(make_backend=make_backend, params=params, mechanism=m, data=data, quick=quick,
                              real_node=node, seed=seed)
                snap = chain.snapshot() if on_node(s, m) and not s.skips(m) else None
                try:
                    results[i] = s.run(ctx)
                finally:
                    if snap is not None:
                        chain.restore(snap)
                    make_backend.close()
                advance(max(s.weight, 0.05), f"{s.name} x {m}", results[i])
            if futures is not None:
                from concurrent.futures import as_completed

                for fut in as_completed(futures):
                    i = futures[fut]
                    results[i] = fut.result()
                    advance(max(runs[i][0].weight, 0.05), f"{runs[i][0].name} x {runs[i][1]}", results[i])
        except BaseException:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            raise
    results = [results[i] for i in range(len(runs))]
    seconds = time.perf_counter() - t0
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = Path(out) / stamp
    meta = {"generated": stamp, "total_seconds": seconds, "params": str(Path(params_file)),
            "data": str(market_data.data_dir(data)), "mechanisms": list(mechs),
            "machine": f"{platform.machine()} {platform.system()}, {__import__('os').cpu_count()} cores"}
    commit, dirty = att.code_commit()
    claim = att.claim(results, head, commit)
    meta["attestation"] = {"report digest": "0x" + claim.report_digest.hex(),
                           "parameter-set digest": "0x" + claim.params_digest.hex(),
                           "scenario-set digest": "0x" + claim.scenario_set_digest.hex(),
                           "code digest": head["code"], "data digest": head["data"], "seed": seed,
                           "code commit": "0x" + commit.hex() + (" (sources differ)" if dirty else ""),
                           "verdict": "PASS" if claim.passed else "FAIL", "paths": claim.paths,
                           "worst bad debt (USD, WAD)": claim.worst_bad_debt,
                           "p99 bad debt (USD, WAD)": claim.p99_bad_debt,
                           "fund drawdown (USD, WAD)": claim.fund_drawdown}
    matched = None
    if posted is not None:
        matched = posted.claim.report_digest == claim.report_digest
        meta["attestation"]["verifies"] = "0x" + posted.uid.hex() + (" (match)" if matched else " (MISMATCH)")
        if attest:
            uid = att.post_verification(registry, sender, posted.uid, claim.report_digest, params_digest, matched)
            meta["attestation"]["verification uid"] = "0x" + uid.hex()
    elif attest:
        uid = att.post_claim(registry, sender, claim)
        meta["attestation"]["attestation uid"] = "0x" + uid.hex()
    if registry is not None:
        meta["attestation"]["registry"] = registry.address
    try:  # the workers draw the charts too (when every result pickles: node results may hold Ape types)
        import pickle

        try:
            pickle.dumps(results)
            chart_map = pool.map if pool is not None else map
        except Exception:
            chart_map = map
        write_report(results, folder, meta, CATALOG, chart_map=chart_map)
        (folder / "digest.json").write_bytes(att.canonical_bytes(att.digest_document(results, head)) + b"\n")
    finally:
        if pool is not None:
            pool.shutdown()
    click.echo("")
    click.echo(summary_table(results))
    failed = [r for r in results if r.passed is False]
    click.echo(f"\n{len(results)} runs ({sum(r.passed is True for r in results)} passed, {len(failed)} failed, "
               f"{sum(r.skipped is not None for r in results)} skipped) in {seconds:.1f} s")
    try:
        shown = folder.relative_to(ROOT)
    except ValueError:
        shown = folder
    click.echo(f"wrote {shown}/report.md, summary.json and charts")
    click.echo(f"report digest 0x{claim.report_digest.hex()}, parameter set 0x{claim.params_digest.hex()}")
    a = meta["attestation"]
    if "attestation uid" in a:
        click.echo(f"attested: uid {a['attestation uid']} in registry {a['registry']}")
    if matched is not None:
        click.echo(f"verified 0x{posted.uid.hex()}: {'MATCH' if matched else 'MISMATCH'}"
                   + (f" (verification uid {a['verification uid']})" if "verification uid" in a else ""))
        if not matched:
            click.echo(f"MISMATCH: attested 0x{posted.claim.report_digest.hex()}, re-run 0x{claim.report_digest.hex()}",
                       err=True)
            sys.exit(2)
    if failed:
        click.echo("FAILED: " + ", ".join(f"{r.scenario} x {r.mechanism}" for r in failed), err=True)
        sys.exit(1)


def _registry(project, chain, address):
    """The AttestationRegistry: `address`, else the connected chain's deployment manifest's, else
    (a local chain) a new one."""
    import json

    from dsi.deployment import manifest_path

    if address:
        return project.AttestationRegistry.at(address)
    manifest = manifest_path(ROOT / "deployments", chain.chain_id)
    if manifest.exists():
        entry = json.loads(manifest.read_text()).get("contracts", {}).get("registry")
        if entry:
            return project.AttestationRegistry.at(entry["address"])
    if chain.provider.network.is_local:
        from ape import accounts

        registry = project.AttestationRegistry.deploy(sender=accounts.test_accounts[0])
        click.echo(f"stress: no registry on this chain: deployed AttestationRegistry at {registry.address}", err=True)
        return registry
    raise click.ClickException("stress: no attestation registry on this chain (--registry ADDRESS, or deploy "
                               "the protocol with `ape run deploy`)")


def _attester(accounts, chain, alias):
    if alias is None:
        if not chain.provider.network.is_local:
            raise click.ClickException("stress: --attest on a live network needs --attester ALIAS")
        alias = "TEST::0"
    if alias.startswith("TEST::"):
        return accounts.test_accounts[int(alias.split("::", 1)[1])]
    return accounts.load(alias)
