from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import runway
from runway.config import config_from_dict

ROOT = Path(__file__).resolve().parents[1]
HSBC = ROOT / "configs" / "hsbc_2025_11.toml"


def hsbc_dict() -> dict:
    return tomllib.loads(HSBC.read_text())


def make_config(mutate=None):
    """The HSBC config as a dict, changed in place by ``mutate(d)``, validated."""
    d = hsbc_dict()
    if mutate is not None:
        mutate(d)
    return config_from_dict(d, "test")


@pytest.fixture(scope="session")
def hsbc_cfg():
    return runway.load_config(HSBC)


@pytest.fixture(scope="session")
def hsbc_det(hsbc_cfg):
    return runway.simulate(hsbc_cfg, deterministic=True)
