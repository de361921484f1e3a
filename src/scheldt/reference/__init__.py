"""Reference code lists shipped with Scheldt, with their sources.

- ``data/hs-nomenclature.csv``: Harmonized System nomenclature (HS2/HS4/HS6 with descriptions),
  UN Comtrade extract as published by the ``datasets/harmonized-system`` project (ODC-PDDL-1.0,
  public domain). It follows the HS 2022 edition; codes of other editions are missing from it.
- ``data/hs-sections.csv``: the 21 HS sections, same source and licence.
- ``data/country-codes.csv``: ISO 3166-1 alpha-2 country codes with names, from the
  ``datasets/un-locode`` project's ``country-codes.csv`` (ODC-PDDL-1.0), kept as published. That
  list is UN/LOCODE's: it lacks BV (Bouvet Island, which has no UN/LOCODE location), which
  :func:`country_names` adds, and it has XZ, UN/LOCODE's code for installations in international
  waters (not ISO 3166-1), kept because UN/LOCODEs beginning with XZ occur in shipping data.
- ``data/unlocode-excerpt.csv``: UN/LOCODE entries (code, name without diacritics, function,
  status, coordinates) of Colombia, Costa Rica, the Netherlands and Panama, ~2022 release, from
  the ``ophpl/unlocode`` per-country files (MIT, data from UNECE). Partial on purpose: a code of
  another country is not checked, and a missing code is only ever an informational flag.
- ``data/unlocode-function-classifiers.csv``: meaning of the UN/LOCODE function positions
  (``datasets/un-locode``, ODC-PDDL-1.0).
- ``data/port-positions.csv``: approximate positions (0.1°) of the port cities the samples and
  the simulator use, for maps only; entered by hand from public gazetteers (UN/LOCODE's own
  coordinates take precedence where the excerpt has them).
"""

from __future__ import annotations

import csv
from datetime import date
from functools import lru_cache
from importlib.resources import files

HS_EDITION = "HS 2022 (UN Comtrade extract)"
#: WCO HS editions and the day each entered into force.
HS_EDITIONS = ((date(2022, 1, 1), "HS 2022"), (date(2017, 1, 1), "HS 2017"), (date(2012, 1, 1), "HS 2012"))


def _rows(name: str) -> list[dict[str, str]]:
    text = files(__package__).joinpath("data", name).read_text(encoding="utf-8-sig")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def hs_descriptions() -> dict[str, str]:
    """Map of HS code (2, 4 or 6 digits) → description, e.g. ``"610910"`` → ``"T-shirts, ..."``;
    not UN Comtrade's reporting aggregates (section ``TOTAL``: 99, 9999, 999999 "Commodities not
    specified according to kind", and the grand total), which are no HS headings (a declarations
    review's HS 999999 passed unflagged)."""
    return {r["hscode"]: r["description"] for r in _rows("hs-nomenclature.csv") if r["section"] != "TOTAL"}


#: ISO 3166-1 codes missing from UN/LOCODE's country list (a country without UN/LOCODE
#: locations): Bouvet Island (ISO 3166-1, code assigned 1974).
NOT_IN_UNLOCODE_LIST = {"BV": "Bouvet Island"}


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Map of ISO 3166-1 alpha-2 code → English short name, e.g. ``"BE"`` → ``"Belgium"``: the
    shipped UN/LOCODE list (kept as published) with :data:`NOT_IN_UNLOCODE_LIST` added."""
    names = {r["CountryCode"]: r["CountryName"].removesuffix(" (the)") for r in _rows("country-codes.csv")}
    return names | NOT_IN_UNLOCODE_LIST



def is_known_hs6(code: str) -> bool:
    """True when the first six digits of ``code`` are an HS6 subheading in the shipped list."""
    return code[:6] in hs_descriptions()


def is_known_country(code: str) -> bool:
    """True when ``code`` is in the shipped ISO 3166-1 list."""
    return code in country_names()


def hs_edition_in_force(on: date) -> str:
    """The HS edition in force on ``on`` (WCO: HS 2017 from 2017-01-01, HS 2022 from 2022-01-01)."""
    return next((name for start, name in HS_EDITIONS if on >= start), "HS 2007 or earlier")


def hs_flag_text(code: str, on: date) -> str:
    """Why an HS code missing from the shipped list is flagged, naming the edition in force."""
    edition = hs_edition_in_force(on)
    text = f"HS {code[:6]} is not in the shipped nomenclature ({HS_EDITION})"
    if edition != "HS 2022":
        text += f"; on {on:%Y-%m-%d} {edition} was in force and may have this code"
    return text


@lru_cache(maxsize=1)
def hs_sections() -> dict[str, str]:
    """Roman section number → name, e.g. ``"II"`` → ``"Vegetable products"``."""
    return {r["section"]: r["name"] for r in _rows("hs-sections.csv")}


@lru_cache(maxsize=1)
def unlocodes() -> dict[str, dict[str, str]]:
    """Shipped UN/LOCODE entries by code (``"NLRTM"`` → name, function, status, coordinates)."""
    return {r["locode"]: r for r in _rows("unlocode-excerpt.csv")}


@lru_cache(maxsize=1)
def unlocode_countries() -> frozenset[str]:
    """Countries whose UN/LOCODE entries are all shipped (the others are not checked)."""
    return frozenset(code[:2] for code in unlocodes())


def unlocode_functions(code: str) -> list[str]:
    """What a location is (UN/LOCODE function positions): e.g. ``["Maritime transport ..."]``."""
    entry = unlocodes().get(code)
    if entry is None:
        return []
    meanings = {r["FunctionCode"]: r["FunctionDescription"] for r in _rows("unlocode-function-classifiers.csv")}
    return [meanings[c] for c in entry["function"] if c in meanings and c not in "-0"]


def _degrees(text: str) -> tuple[float, float] | None:
    """UN/LOCODE coordinates ``"5113N 00425E"`` (degrees and minutes) as (lat, lon) degrees."""
    parts = text.split()
    if len(parts) != 2 or len(parts[0]) != 5 or len(parts[1]) != 6:
        return None
    try:
        lat = int(parts[0][:2]) + int(parts[0][2:4]) / 60
        lon = int(parts[1][:3]) + int(parts[1][3:5]) / 60
    except ValueError:
        return None
    return (-lat if parts[0][4] == "S" else lat), (-lon if parts[1][5] == "W" else lon)


@lru_cache(maxsize=1)
def _port_positions() -> dict[str, tuple[float, float]]:
    return {r["locode"]: (float(r["latitude"]), float(r["longitude"])) for r in _rows("port-positions.csv")}


@lru_cache(maxsize=1)
def _port_names() -> dict[str, str]:
    return {r["locode"]: r["name"] for r in _rows("port-positions.csv")}


def port_name(code: str) -> str:
    """The name of a UN/LOCODE location: the shipped UN/LOCODE excerpt's, else the name in
    ``port-positions.csv`` (ports of the samples and the simulator the partial excerpt lacks),
    else ""."""
    return (unlocodes().get(code) or {}).get("name", "") or _port_names().get(code, "")


def port_position(code: str) -> tuple[float, float] | None:
    """WGS84 (latitude, longitude) in degrees of a UN/LOCODE location, for maps: the UN/LOCODE
    coordinates column of the shipped excerpt where it has them, else ``port-positions.csv``
    (the city positions of the ports in the samples and the simulator, rounded to 0.1°, entered
    by hand from public gazetteers), else None."""
    entry = unlocodes().get(code)
    found = _degrees(entry["coordinates"]) if entry and entry.get("coordinates") else None
    return found or _port_positions().get(code)
