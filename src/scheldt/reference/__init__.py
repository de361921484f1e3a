"""Reference code lists shipped with Scheldt, with their sources.

- ``data/hs-nomenclature.csv``: Harmonized System nomenclature (HS2/HS4/HS6 with descriptions),
  UN Comtrade extract as published by the ``datasets/harmonized-system`` project (ODC-PDDL-1.0,
  public domain). It follows the HS 2022 edition; codes of other editions are missing from it.
- ``data/country-codes.csv``: ISO 3166-1 alpha-2 country codes with names, from the
  ``datasets/un-locode`` project's ``country-codes.csv`` (ODC-PDDL-1.0).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib.resources import files

HS_EDITION = "HS 2022 (UN Comtrade extract)"


def _rows(name: str) -> list[dict[str, str]]:
    text = files(__package__).joinpath("data", name).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def hs_descriptions() -> dict[str, str]:
    """Map of HS code (2, 4 or 6 digits) → description, e.g. ``"610910"`` → ``"T-shirts, ..."``."""
    return {r["hscode"]: r["description"] for r in _rows("hs-nomenclature.csv")}


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Map of ISO 3166-1 alpha-2 code → English short name, e.g. ``"BE"`` → ``"Belgium"``."""
    return {r["CountryCode"]: r["CountryName"].removesuffix(" (the)") for r in _rows("country-codes.csv")}


def is_known_hs6(code: str) -> bool:
    """True when the first six digits of ``code`` are an HS6 subheading in the shipped list."""
    return code[:6] in hs_descriptions()


def is_known_country(code: str) -> bool:
    """True when ``code`` is in the shipped ISO 3166-1 list."""
    return code in country_names()
