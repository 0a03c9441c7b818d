"""Deploy the whole protocol once per chain and remember it: deployments/<chain-id>.json.

`deploy_or_load(project, chain, account, params, folder)` is the logic behind `ape run deploy`
(scripts/deploy.py): when the manifest for the connected chain exists, every contract it names
still has code and it was deployed with the same parameters, the existing deployment is returned
and nothing is sent; otherwise the protocol is
deployed from `account` with `dsi.protocol.deploy`, `deploy_margin` and `deploy_liquidation`
(`params.mechanism`, the fund seeded with `params.fund_capital`) and the manifest written (addresses, parameters, block, chain id,
deployer, time). On a public network one account holds every role (deployer, reporter,
keeper, ...); roles are re-assigned by their owner later.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from dsi.governance import govern
from dsi.protocol import MECHANISMS, ROLES, Params, deploy, deploy_liquidation, deploy_margin

MANIFEST_VERSION = 5  # 2: risk arrays, the insurance fund and the liquidator; 3: the model, timelock and governor;
# 4: the stress monitor; 5: the attestation registry and the stress gate
CONTRACTS = ("usd", "weth", "pool", "lender", "twap", "feed", "oracle", "pricer", "option_token", "series", "vault",
             "vol_feed", "calculator", "risk_arrays", "model", "engine", "insurance_fund", "liquidator", "timelock",
             "governor", "monitor", "registry", "gate")
CONTRACT_TYPES = {"usd": "CollateralToken", "weth": "CollateralToken", "pool": "SpotPool", "lender": "FlashLender",
                  "twap": "TwapOracle", "feed": "PriceFeed", "oracle": "ProtocolOracle", "pricer": "OptionPricer",
                  "option_token": "OptionToken", "series": "OptionSeries", "vault": "OptionsVault",
                  "vol_feed": "VolFeed", "calculator": "RiskCalculator", "risk_arrays": "RiskArrays",
                  "model": "MarginModel", "engine": "MarginEngine", "insurance_fund": "InsuranceFund",
                  "timelock": "Timelock", "governor": "RiskGovernor", "monitor": "StressMonitor",
                  "registry": "AttestationRegistry", "gate": "StressGate"}  # liquidator: MECHANISMS


def contract_type(name: str, mechanism: str) -> str:
    return MECHANISMS[mechanism] if name == "liquidator" else CONTRACT_TYPES[name]


def manifest_path(folder, chain_id: int) -> Path:
    return Path(folder) / f"{chain_id}.json"


def _address(x) -> str:
    return str(getattr(x, "address", x))


def check_existing(manifest: dict, code_size, params: Params) -> list[str]:
    """Why an existing manifest cannot be reused (empty when it can)."""
    problems = []
    if manifest.get("version") != MANIFEST_VERSION:
        problems.append(f"manifest version {manifest.get('version')} != {MANIFEST_VERSION}")
    missing = [name for name in CONTRACTS if name not in manifest.get("contracts", {})]
    if missing:
        problems.append(f"contracts missing from the manifest: {missing}")
    for name, entry in manifest.get("contracts", {}).items():
        if code_size(entry["address"]) == 0:
            problems.append(f"no code at {name} {entry['address']}")
    if manifest.get("params") != params.to_dict():
        problems.append("deployed with different parameters")
    return problems


def deploy_or_load(project, chain, account, params: Params | None = None, folder="deployments",
                   log=print) -> dict:
    """The manifest of the protocol on the connected chain, deploying it first if needed.

    `chain` is a `dsi.chain.ChainFacade`. Raises `RuntimeError` when a manifest exists for this
    chain but does not match (different parameters, or a contract without code): it is never
    silently overwritten; delete it to redeploy."""
    params = (params or Params()).validate()
    path = manifest_path(folder, chain.chain_id)
    if path.exists():
        manifest = json.loads(path.read_text())
        problems = check_existing(manifest, chain.code_size, params)
        if not problems:
            log(f"deploy: found the deployment of block {manifest['block']} on chain {chain.chain_id} "
                f"({path}); nothing sent")
            return manifest
        raise RuntimeError(f"deploy: {path} exists but cannot be reused: {'; '.join(problems)}. "
                           "Delete it to deploy afresh.")
    log(f"deploy: deploying the protocol on chain {chain.chain_id} from {_address(account)}")
    protocol = deploy_margin(project, deploy(project, [account] * len(ROLES), params))
    deploy_liquidation(project, protocol, params.mechanism, fund_capital=params.fund_capital)
    # The last step: the timelock and the risk governor take every contract over (the account is
    # the timelock's proposer and, with one account, the guardian); from here no key owns anything.
    govern(project, protocol)
    manifest = {
        "version": MANIFEST_VERSION,
        "chain_id": chain.chain_id,
        "block": chain.block_number,
        "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "deployer": _address(account),
        "roles": {role: _address(account) for role in ROLES},
        "params": params.to_dict(),
        "contracts": {name: {"type": contract_type(name, params.mechanism), "address": _address(getattr(protocol, name))}
                      for name in CONTRACTS},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"deploy: wrote {path} ({len(CONTRACTS)} contracts, block {manifest['block']})")
    return manifest


def load_protocol(project, manifest: dict) -> dict:
    """Contract objects for a manifest's addresses (name -> contract)."""
    return {name: getattr(project, e["type"]).at(e["address"]) for name, e in manifest["contracts"].items()}
