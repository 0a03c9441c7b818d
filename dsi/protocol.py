"""The one place that deploys and wires the DSI protocol.

`deploy(project, accounts, params)` builds, in order: the two collateral tokens, the WETH/USD
spot pool (seeded at `params.spot`), the ERC-3156 flash lender (funded), the TWAP oracle over
the pool, the pushed price feed (with the reporter role), the protocol oracle combining them,
the option pricer, and the options layer: the ERC-1155 option token, the series registry
(listing, settlement pools; the deployer is a lister) and the fully collateralised options
vault (a minter of the token and a payer into the settlement pools; the series registry is a
minter too, to burn on redemption). It returns a `Protocol` with named contracts and role
accounts.

`project` and `accounts` are Ape's (`from ape import project, accounts`) on any network; the
same wiring runs in tests (anvil), `ape run` scripts, and later the lab.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path

WAD = 10**18
USD_DECIMALS = 6
WETH_DECIMALS = 18
ROLES = ("deployer", "writer", "buyer", "keeper", "arbitrageur", "attacker", "reporter", "guardian")


@dataclass(frozen=True)
class Params:
    """Deployment parameters; every field is documented and validated in `validate()`."""

    spot: float = 3000.0  # USD per WETH the pool and the feed start at
    pool_weth: float = 1_000.0  # WETH seeded into the pool (depth)
    lender_weth: float = 10_000.0  # WETH the flash lender can lend
    lender_usd: float = 30_000_000.0  # USD the flash lender can lend
    pool_fee_bps: int = 30
    flash_fee_bps: int = 5
    twap_cardinality: int = 1_024  # observations kept
    twap_min_spacing: int = 12  # seconds between observations (one block)
    twap_window: int = 1_800  # seconds averaged by the protocol price
    settlement_window: int = 1_800  # seconds of TWAP ending at expiry
    feed_max_age: int = 3_600  # seconds before the feed is stale
    max_deviation: float = 0.10  # feed vs TWAP / spot
    max_spot_deviation: float = 0.05  # spot vs TWAP
    max_tenor: int = 365 * 86_400  # seconds: the longest expiry a series may be listed with
    strike_band_min: float = 0.2  # lowest listable strike, x the oracle price
    strike_band_max: float = 5.0  # highest listable strike, x the oracle price
    min_option_size: float = 0.01  # options (on 1 WETH each): the smallest position (dust)
    mechanism: str = "dutch"  # the liquidation mechanism a deployment wires (MECHANISMS)
    fund_capital: float = 50_000.0  # USD the insurance fund starts with
    keeper_gas_gwei: float = 30.0  # the gas price the lab's keeper prices its transactions at
    keeper_delay: int = 0  # seconds an account stays liquidatable before the lab's keeper acts

    def validate(self) -> "Params":
        errors = []
        if self.spot <= 0:
            errors.append("spot must be positive")
        for name in ("pool_weth", "lender_weth", "lender_usd"):
            if getattr(self, name) < 0:
                errors.append(f"{name} must be >= 0")
        if self.pool_weth <= 0:
            errors.append("pool_weth must be positive (the pool needs depth)")
        if not 0 <= self.pool_fee_bps <= 100:
            errors.append("pool_fee_bps must be within 0..100")
        if not 0 <= self.flash_fee_bps <= 100:
            errors.append("flash_fee_bps must be within 0..100")
        if not 2 <= self.twap_cardinality <= 1_024:
            errors.append("twap_cardinality must be within 2..1024")
        if not 1 <= self.twap_min_spacing <= 3_600:
            errors.append("twap_min_spacing must be within 1..3600 s")
        for name in ("twap_window", "settlement_window"):
            if not 60 <= getattr(self, name) <= 86_400:
                errors.append(f"{name} must be within 60..86400 s")
        if not 60 <= self.feed_max_age <= 86_400:
            errors.append("feed_max_age must be within 60..86400 s")
        for name in ("max_deviation", "max_spot_deviation"):
            if not 0.005 <= getattr(self, name) <= 0.5:
                errors.append(f"{name} must be within 0.005..0.5")
        if not 86_400 <= self.max_tenor <= 730 * 86_400:
            errors.append("max_tenor must be within 86400..63072000 s (1 day..2 years)")
        if not 0.01 <= self.strike_band_min <= 1:
            errors.append("strike_band_min must be within 0.01..1")
        if not 1 <= self.strike_band_max <= 100:
            errors.append("strike_band_max must be within 1..100")
        if not 1e-6 <= self.min_option_size <= 1:
            errors.append("min_option_size must be within 1e-6..1")
        if self.mechanism not in MECHANISMS:
            errors.append(f"mechanism must be one of {sorted(MECHANISMS)}, got {self.mechanism!r}")
        if not 0 <= self.fund_capital <= 1e12:
            errors.append("fund_capital must be within 0..1e12 USD")
        if not 0 < self.keeper_gas_gwei <= 10_000:
            errors.append("keeper_gas_gwei must be within (0, 10000] gwei")
        if not 0 <= self.keeper_delay <= 86_400:
            errors.append("keeper_delay must be within 0..86400 s")
        if errors:
            raise ValueError("invalid protocol parameters: " + "; ".join(errors))
        return self

    # The tables of a parameter file (params/default.toml) and the fields each holds.
    SECTIONS = {
        "market": ("spot", "pool_weth", "pool_fee_bps", "lender_weth", "lender_usd", "flash_fee_bps"),
        "oracle": ("twap_cardinality", "twap_min_spacing", "twap_window", "settlement_window", "feed_max_age",
                   "max_deviation", "max_spot_deviation"),
        "options": ("max_tenor", "strike_band_min", "strike_band_max", "min_option_size"),
        "liquidation": ("mechanism", "fund_capital", "keeper_gas_gwei", "keeper_delay"),
    }

    @classmethod
    def from_dict(cls, raw: dict, where: str = "protocol parameters") -> "Params":
        types = {f.name: f.type for f in fields(cls)}
        unknown = set(raw) - set(types)
        if unknown:
            raise ValueError(f"params: {where}: unknown key(s) {sorted(unknown)} (known: {sorted(types)})")
        for name, value in raw.items():
            expected = types[name]
            if expected == "int":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif expected == "str":
                ok = isinstance(value, str)
            else:  # float: an integer is a float too
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok:
                kind = {"int": "an integer", "str": "a string"}.get(expected, "a number")
                raise ValueError(f"params: {where}: {name} must be {kind}, "
                                 f"got {type(value).__name__} {value!r}")
        try:
            return cls(**raw).validate()
        except ValueError as e:
            raise ValueError(f"params: {where}: {e}") from None

    @classmethod
    def from_file(cls, path) -> "Params":
        """Parameters from a TOML file with the tables of `SECTIONS` (see params/default.toml);
        missing keys keep their defaults. Errors name the file, the table and the key."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"params: no parameter file at {path}")
        try:
            doc = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            raise ValueError(f"params: {path}: not valid TOML ({e})") from None
        flat = {}
        for section, values in doc.items():
            if section not in cls.SECTIONS:
                raise ValueError(f"params: {path}: unknown table [{section}] (known: {sorted(cls.SECTIONS)})")
            if not isinstance(values, dict):
                raise ValueError(f"params: {path}: [{section}] must be a table, got a {type(values).__name__}")
            for key, value in values.items():
                if key not in cls.SECTIONS[section]:
                    home = [s for s, keys in cls.SECTIONS.items() if key in keys]
                    hint = f" (it belongs in [{home[0]}])" if home else f" (known: {list(cls.SECTIONS[section])})"
                    raise ValueError(f"params: {path}: unknown key {key!r} in [{section}]{hint}")
                flat[key] = value
        return cls.from_dict(flat, where=str(path))

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Protocol:
    params: Params
    accounts: dict
    usd: object
    weth: object
    pool: object
    lender: object
    twap: object
    feed: object
    oracle: object
    pricer: object
    extra: dict = field(default_factory=dict)
    option_token: object = None
    series: object = None
    vault: object = None

    def __getattr__(self, name):
        # Role accounts (protocol.writer, protocol.keeper, ...) and contracts added by later
        # layers (protocol.engine, protocol.vol_feed, ...) as attributes.
        for bag in ("accounts", "extra"):
            values = self.__dict__.get(bag, {})
            if name in values:
                return values[name]
        raise AttributeError(name)

    def usd_units(self, amount: float) -> int:
        return int(round(amount * 10**USD_DECIMALS))

    def weth_units(self, amount: float) -> int:
        return int(round(amount * 10**WETH_DECIMALS))


def to_wad(x: float) -> int:
    """A decimal parameter as a WAD integer, exactly as written (0.2 -> 2e17)."""
    return int(Decimal(str(x)) * WAD)


def role_accounts(accounts) -> dict:
    """The protocol's roles from the first len(ROLES) test accounts, in a fixed order."""
    test_accounts = accounts.test_accounts if hasattr(accounts, "test_accounts") else accounts
    return {role: test_accounts[i] for i, role in enumerate(ROLES)}


def deploy(project, accounts, params: Params | None = None) -> Protocol:
    params = (params or Params()).validate()
    roles = role_accounts(accounts)
    d = roles["deployer"]

    usd = project.CollateralToken.deploy("DSI USD", "dUSD", USD_DECIMALS, sender=d)
    weth = project.CollateralToken.deploy("Wrapped Ether", "WETH", WETH_DECIMALS, sender=d)

    pool = project.SpotPool.deploy(weth.address, usd.address, sender=d)
    if params.pool_fee_bps != pool.fee_bps():
        pool.set_fee(params.pool_fee_bps, sender=d)
    pool_weth = int(params.pool_weth * 10**WETH_DECIMALS)
    pool_usd = int(params.pool_weth * params.spot * 10**USD_DECIMALS)
    weth.mint(d, pool_weth, sender=d)
    usd.mint(d, pool_usd, sender=d)
    weth.approve(pool.address, pool_weth, sender=d)
    usd.approve(pool.address, pool_usd, sender=d)
    pool.add_liquidity(pool_weth, pool_usd, 0, d, sender=d)

    lender = project.FlashLender.deploy([weth.address, usd.address], sender=d)
    if params.flash_fee_bps != lender.fee_bps():
        lender.set_fee(params.flash_fee_bps, sender=d)
    for token, amount in ((weth, int(params.lender_weth * 10**WETH_DECIMALS)),
                          (usd, int(params.lender_usd * 10**USD_DECIMALS))):
        if amount:
            token.mint(d, amount, sender=d)
            token.approve(lender.address, amount, sender=d)
            lender.deposit(token.address, amount, sender=d)

    twap = project.TwapOracle.deploy(pool.address, params.twap_cardinality, params.twap_min_spacing, sender=d)
    feed = project.PriceFeed.deploy("ETH / USD", sender=d)
    feed.set_reporter(roles["reporter"], True, sender=d)
    feed.submit(int(params.spot * WAD), sender=roles["reporter"])
    oracle = project.ProtocolOracle.deploy(
        feed.address, twap.address, params.settlement_window, params.feed_max_age,
        int(params.max_deviation * WAD), int(params.max_spot_deviation * WAD), params.twap_window, sender=d,
    )
    oracle.poke(sender=roles["keeper"])
    pricer = project.OptionPricer.deploy(sender=d)

    option_token = project.OptionToken.deploy("dsi://options/", sender=d)
    series = project.OptionSeries.deploy(
        oracle.address, option_token.address, weth.address, usd.address, params.max_tenor,
        to_wad(params.strike_band_min), to_wad(params.strike_band_max), to_wad(params.min_option_size),
        sender=d,
    )
    oracle.set_registry(series.address, sender=d)  # listing registers the expiries that may settle
    vault = project.OptionsVault.deploy(series.address, sender=d)
    option_token.set_minter(vault.address, True, sender=d)
    option_token.set_minter(series.address, True, sender=d)  # burns on redemption
    series.set_payer(vault.address, True, sender=d)
    series.set_lister(d, True, sender=d)
    return Protocol(params=params, accounts=roles, usd=usd, weth=weth, pool=pool, lender=lender, twap=twap,
                    feed=feed, oracle=oracle, pricer=pricer, option_token=option_token, series=series,
                    vault=vault)


DAY = 86_400


def deploy_margin(project, protocol: Protocol, vol_max_age: int = 3 * DAY) -> Protocol:
    """Add the margin layer to a deployed protocol: the vol feed (the reporter pushes SVI
    slices), the risk calculator, the risk arrays (cached per-series scenario values, refreshed
    by anyone; the portfolio valuation), the margin model (the margin risk parameters and the
    valuation of an account) and the margin engine (the accounts), with the engine a minter of
    the option token and a payer into the series' settlement pools. Sets `protocol.vol_feed`,
    `protocol.calculator`, `protocol.risk_arrays`, `protocol.model`, `protocol.engine` (in
    `extra` too) and returns the protocol."""
    d = protocol.deployer
    vol_feed = project.VolFeed.deploy(protocol.reporter, vol_max_age, sender=d)
    calculator = project.RiskCalculator.deploy(sender=d)
    risk_arrays = project.RiskArrays.deploy(
        protocol.series.address, protocol.oracle.address, vol_feed.address, calculator.address, sender=d,
    )
    model = project.MarginModel.deploy(protocol.series.address, vol_feed.address, calculator.address, risk_arrays.address,
                                       sender=d)
    engine = project.MarginEngine.deploy(
        protocol.series.address, protocol.option_token.address, protocol.oracle.address, model.address,
        protocol.usd.address, protocol.weth.address, sender=d,
    )
    protocol.option_token.set_minter(engine.address, True, sender=d)
    protocol.series.set_payer(engine.address, True, sender=d)
    protocol.extra.update(vol_feed=vol_feed, calculator=calculator, risk_arrays=risk_arrays, model=model, engine=engine)
    return protocol


MECHANISMS = {"dutch": "DutchAuction", "fixed": "FixedPenalty", "dynamic": "DynamicFee"}
LIQUIDATION_MECHANISMS = tuple(MECHANISMS)  # the lab's mechanism axis (plus "none": nobody liquidates)
# set_parameters argument order per mechanism (on-chain units: WAD ratios, WAD USD values,
# seconds, USD with 6 decimals for the Dutch tip); the Dutch curve fields come first, as a tuple.
CURVE_FIELDS = ("start_discount", "mid_discount", "mid_time", "floor_discount", "floor_time", "tail", "cusp",
                "insolvent_time", "insolvent_max")
MECHANISM_PARAMS = {
    "fixed": ("penalty", "close_factor", "whole_below", "dust", "fund_share"),
    "dynamic": ("base", "k_health", "k_velocity", "cap", "dust", "fund_share"),
    "dutch": CURVE_FIELDS + ("tip", "chip", "auction_cap", "dust", "fund_share"),
}


def deploy_liquidation(project, protocol: Protocol, mechanism: str = "dutch", fund_capital: float = 0.0,
                       reserve: tuple[int, int, int] | None = None, **params) -> Protocol:
    """Add liquidation to a protocol with the margin layer: the insurance fund and ONE mechanism
    (`mechanism` in MECHANISMS: "dutch", "fixed", "dynamic"), wired both ways: the engine's
    liquidator and insurance fund, the fund's liquidator, the fund a payer into the series'
    settlement pools. `params` override the mechanism's defaults, in on-chain units (names in
    MECHANISM_PARAMS); `fund_capital` USD is minted to the deployer and deposited in the fund;
    `reserve` = (base gas, gas per position, gas price in wei) turns the liquidation reserve on
    (`InsuranceFund.set_reserve`; off by default: writers must then `post_reserve` WETH before
    `open_short`; `dsi.reference.liquidation.RESERVE_*` are the recommended settings).
    Sets `protocol.liquidator`, `protocol.insurance_fund`, `protocol.mechanism` and returns the
    protocol."""
    if mechanism not in MECHANISMS:
        raise ValueError(f"unknown liquidation mechanism {mechanism!r}: one of {sorted(MECHANISMS)}")
    unknown = set(params) - set(MECHANISM_PARAMS[mechanism])
    if unknown:
        raise ValueError(f"unknown {mechanism} parameters: {sorted(unknown)}")
    d = protocol.deployer
    engine = protocol.engine
    fund = project.InsuranceFund.deploy(protocol.usd.address, engine.address, protocol.series.address,
                                        protocol.oracle.address, sender=d)
    liquidator = getattr(project, MECHANISMS[mechanism]).deploy(
        engine.address, fund.address, protocol.oracle.address, protocol.series.address, protocol.vol_feed.address,
        protocol.calculator.address, protocol.usd.address, sender=d,
    )
    engine.set_liquidation(liquidator.address, fund.address, sender=d)
    fund.set_liquidator(liquidator.address, sender=d)
    protocol.series.set_payer(fund.address, True, sender=d)
    if params:
        current = liquidation_params(liquidator, mechanism)
        current.update(params)
        args = [current[name] for name in MECHANISM_PARAMS[mechanism]]
        if mechanism == "dutch":
            n = len(CURVE_FIELDS)
            args = [tuple(args[:n])] + args[n:]
        liquidator.set_parameters(*args, sender=d)
    if reserve is not None:
        fund.set_reserve(*reserve, sender=d)
    if fund_capital:
        amount = protocol.usd_units(fund_capital)
        protocol.usd.mint(d, amount, sender=d)
        protocol.usd.approve(fund.address, amount, sender=d)
        fund.deposit(amount, sender=d)
    protocol.extra.update(liquidator=liquidator, insurance_fund=fund, mechanism=mechanism)
    return protocol


def liquidation_params(liquidator, mechanism: str) -> dict:
    """The mechanism's current parameters by name (on-chain units)."""
    out = {}
    for name in MECHANISM_PARAMS[mechanism]:
        if mechanism == "dutch" and name in CURVE_FIELDS:
            continue
        out[name] = getattr(liquidator, name)()
    if mechanism == "dutch":
        curve = liquidator.curve()
        out.update({name: getattr(curve, name) for name in CURVE_FIELDS})
    return out
