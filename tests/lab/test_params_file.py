"""Parameter files: params/default.toml is Params() exactly, and every kind of mistake is a
clear error naming the file, the table and the key."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from dsi.protocol import Params

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "params" / "default.toml"


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text(text)
    return path


def test_default_file_is_the_default_params_and_documents_every_field():
    assert Params.from_file(DEFAULT) == Params()
    text = DEFAULT.read_text().splitlines()
    for f in fields(Params):
        line = next(i for i, t in enumerate(text) if t.startswith(f"{f.name} = "))
        assert text[line - 1].startswith("# "), f"{f.name} has no comment above it"
    assert sorted(k for keys in Params.SECTIONS.values() for k in keys) == sorted(f.name for f in fields(Params))


def test_a_partial_file_keeps_the_other_defaults(tmp_path):
    p = Params.from_file(write(tmp_path, "[market]\nspot = 2500\npool_weth = 50.5\n"))
    assert (p.spot, p.pool_weth, p.twap_window) == (2500, 50.5, Params().twap_window)


def test_unknown_key(tmp_path):
    with pytest.raises(ValueError, match=r"params: .*p.toml: unknown key 'spot_price' in \[market\]"):
        Params.from_file(write(tmp_path, "[market]\nspot_price = 1\n"))


def test_key_in_the_wrong_table_names_its_table(tmp_path):
    with pytest.raises(ValueError, match=r"unknown key 'twap_window' in \[market\] \(it belongs in \[oracle\]\)"):
        Params.from_file(write(tmp_path, "[market]\ntwap_window = 600\n"))


def test_unknown_table(tmp_path):
    with pytest.raises(ValueError, match=r"unknown table \[keeper\]"):
        Params.from_file(write(tmp_path, "[keeper]\ngas = 30\n"))


def test_liquidation_table(tmp_path):
    p = Params.from_file(write(tmp_path, '[liquidation]\nmechanism = "fixed"\nfund_capital = 2000\n'
                                         'keeper_gas_gwei = 500\nkeeper_delay = 60\n'))
    assert (p.mechanism, p.fund_capital, p.keeper_gas_gwei, p.keeper_delay) == ("fixed", 2000, 500, 60)
    with pytest.raises(ValueError, match=r"mechanism must be one of \['dutch', 'dynamic', 'fixed'\], got 'english'"):
        Params.from_file(write(tmp_path, '[liquidation]\nmechanism = "english"\n'))
    with pytest.raises(ValueError, match="mechanism must be a string, got int 1"):
        Params.from_file(write(tmp_path, "[liquidation]\nmechanism = 1\n"))
    with pytest.raises(ValueError, match=r"keeper_gas_gwei must be within \(0, 10000\] gwei"):
        Params.from_file(write(tmp_path, "[liquidation]\nkeeper_gas_gwei = 0\n"))


@pytest.mark.parametrize("text, message", [
    ('[oracle]\ntwap_window = "1800"\n', "twap_window must be an integer, got str '1800'"),
    ("[oracle]\ntwap_window = 1800.0\n", "twap_window must be an integer, got float 1800.0"),
    ("[market]\nspot = true\n", "spot must be a number, got bool True"),
])
def test_wrong_type(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Params.from_file(write(tmp_path, text))


@pytest.mark.parametrize("text, message", [
    ("[market]\nspot = -1.0\n", "spot must be positive"),
    ("[market]\npool_fee_bps = 101\n", "pool_fee_bps must be within 0..100"),
    ("[oracle]\nmax_deviation = 0.9\n", "max_deviation must be within 0.005..0.5"),
    ("[options]\nstrike_band_min = 0\n", "strike_band_min must be within 0.01..1"),
])
def test_out_of_bounds(tmp_path, text, message):
    with pytest.raises(ValueError, match=r"params: .*p.toml: invalid protocol parameters: " + message):
        Params.from_file(write(tmp_path, text))


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not valid TOML"):
        Params.from_file(write(tmp_path, "[market\nspot = 1\n"))
    with pytest.raises(FileNotFoundError, match="params: no parameter file at"):
        Params.from_file(tmp_path / "absent.toml")
