"""The reference and code-list samples in ../shared/fixtures (hs, unlocode, iso6346, reference):
what Scheldt ships is an exact copy or excerpt, and the test-only lists agree with what the
readers produce."""

from __future__ import annotations

import csv
import json
from datetime import date

import yaml

from scheldt import reference
from scheldt.domain.identifiers import container_number, owner_code, unlocode_flag
from scheldt.domain.shipping import SealSource
from scheldt.ingest.dcsa_documents import _ROLES
from tests.conftest import ROOT, SHARED

F = SHARED / "fixtures"
DATA = ROOT / "src" / "scheldt" / "reference" / "data"


def rows(path, **kw):  # type: ignore[no-untyped-def]
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, **kw))


# --- hs/ (shipped) -----------------------------------------------------------------------------


def test_shipped_hs_lists_are_the_public_files() -> None:
    assert (DATA / "hs-nomenclature.csv").read_bytes() == (F / "hs" / "harmonized-system-HS6-comtrade.csv").read_bytes()
    assert len(rows(F / "hs" / "harmonized-system-HS6-comtrade.csv")) == 6940
    assert reference.hs_descriptions()["121130"].startswith("Coca leaf")
    assert reference.hs_sections()["II"] == "Vegetable products"  # sections file starts with a BOM
    assert len(reference.hs_sections()) == 21


def test_hs_edition_by_date() -> None:
    assert reference.hs_edition_in_force(date(2021, 12, 31)) == "HS 2017"
    assert reference.hs_edition_in_force(date(2022, 1, 1)) == "HS 2022"
    assert reference.hs_flag_text("940540", date(2020, 5, 1)) == (
        "HS 940540 is not in the shipped nomenclature (HS 2022 (UN Comtrade extract)); on 2020-05-01 "
        "HS 2017 was in force and may have this code")


# --- unlocode/ (per-country files shipped as an excerpt; auxiliary tables) ---------------------


def test_unlocode_excerpt_covers_the_four_country_files() -> None:
    total = 0
    for cc in ("co", "cr", "nl", "pa"):
        entries = yaml.safe_load((F / "unlocode" / f"unlocode-2022-{cc}.yaml").read_text())
        total += sum(1 for e in entries if len(e["locode"].replace(" ", "")) == 5)
    assert len(reference.unlocodes()) == total
    assert reference.unlocodes()["NLRTM"]["name"] == "Rotterdam"
    assert reference.unlocodes()["CRMOB"]["name"] == "Moin"
    assert reference.unlocode_functions("PABLB")[0].startswith("Maritime transport")
    assert reference.unlocode_countries() == {"CO", "CR", "NL", "PA"}


def test_unlocode_flags_inform_never_reject() -> None:
    known, covered = reference.unlocodes(), reference.unlocode_countries()
    assert unlocode_flag("NLRTM", "pol", known, covered) is None
    assert unlocode_flag("BEANR", "pol", known, covered) is None  # Belgium is not in the excerpt: unchecked
    flag = unlocode_flag("NLRAM", "pol", known, covered)  # the DCSA T&T 3.0-beta sample's "Port of Amsterdam"
    assert flag is not None and flag.code == "unknown-unlocode"
    assert unlocode_flag("NL-RTM", "pol", known, covered).code == "malformed-unlocode"  # type: ignore[union-attr]
    # a country that is none: an attack review's ZZZZZ and XYABC passed unflagged
    countries = reference.country_names()
    assert unlocode_flag("BEXQZ", "pol", known, covered, countries) is None  # Belgium: a country, list partial
    assert unlocode_flag("XZAAA", "pol", known, covered, countries) is None  # UN/LOCODE's international waters
    for code in ("ZZZZZ", "XYABC"):
        flag = unlocode_flag(code, "location", known, covered, countries)
        assert flag is not None and (flag.code, flag.why) == ("unknown-country",
                                                              f"{code}: {code[:2]} is not an ISO 3166-1 country")


def test_unlocode_auxiliary_tables() -> None:
    assert (DATA / "country-codes.csv").read_bytes() == (F / "unlocode" / "unlocode-country-codes.csv").read_bytes()
    assert (DATA / "unlocode-function-classifiers.csv").read_bytes() == (
        F / "unlocode" / "unlocode-function-classifiers.csv").read_bytes()
    status = {r["STStatus"]: r["STDescription"] for r in rows(F / "unlocode" / "unlocode-status-indicators.csv")}
    assert {reference.unlocodes()[c]["status"] for c in ("NLRTM", "CRMOB")} <= set(status)
    subdivisions = {(r["SUCountry"], r["SUCode"]) for r in rows(F / "unlocode" / "unlocode-subdivision-codes.csv")}
    assert ("NL", "ZH") in subdivisions  # Rotterdam's province
    aliases = rows(F / "unlocode" / "unlocode-alias.csv")
    assert all(a["Country"] in reference.country_names() for a in aliases)


# --- iso6346/ (test only: BIC terms) -----------------------------------------------------------


def test_iso6346_lists_agree_with_container_numbers_read() -> None:
    owners = {r[0] for r in csv.reader((F / "iso6346" / "bic-owner-codes-icm-2023-02.csv").open(encoding="utf-8"),
                                       delimiter=";")}
    assert len(owners) == 3458
    for raw in ("APZU4812090", "KOSU4954710", "OTPU6302502"):  # read from the DCSA, COARRI and BAPLIE samples
        number, flag = container_number(raw)
        assert flag is None and owner_code(number) in owners
    categories = json.loads((F / "iso6346" / "iso6346-equipment-category-id-codes.json").read_text())
    assert set(categories) == {"U", "J", "Z"}
    sizes = json.loads((F / "iso6346" / "iso6346-size-codes.json").read_text())
    types = json.loads((F / "iso6346" / "iso6346-type-codes.json").read_text())
    groups = json.loads((F / "iso6346" / "iso6346-group-codes.json").read_text())
    # 45R1 (the reefers in the Del Monte bay plans): 45 = 40 ft long, 9'6" high; R1 = reefer
    assert sizes["length"]["4"] == "12192 mm" and "R1" in types and groups["R"].startswith("Thermal")


# --- reference/ (test only) --------------------------------------------------------------------


def test_dcsa_code_lists_match_what_the_readers_use() -> None:
    seal_sources = {r["Seal Soruce Code"] for r in rows(F / "reference" / "dcsa-sealsourcecodes.csv")}
    assert seal_sources == {s.value for s in SealSource}
    events = {r[next(iter(r))] for r in rows(F / "reference" / "dcsa-transporteventtypecodes-v300.csv")}
    assert events == {"ARRI", "DEPA"}
    functions = {r["Party Function Code"] for r in rows(F / "reference" / "dcsa-partyfunctioncodes.csv")}
    assert {"OS", "CN", "N1", "N2", "NI", "DDR", "DDS", "HE", "SCO"} <= functions
    assert {"OS", "CN", "N1", "N2", "NI", "DDR", "DDS", "HE", "SCO"} <= set(_ROLES)
    iso = {r["ISO Size Type Or Type Group"] for r in rows(F / "reference" / "dcsa-isoequipmentcodes.csv")}
    assert {"22GP", "45R1", "42G1"} <= iso


def test_dcsa_locations_and_terminals() -> None:
    ports = {r["UN Location Code"]: r for r in rows(F / "reference" / "dcsa-unlocationcodes.csv")}
    assert ports["BEANR"]["UN Location Name"] == "Antwerpen"
    shipped = reference.unlocodes()
    assert all(code in shipped for code in ports if code[:2] in reference.unlocode_countries())
    terminals = rows(F / "reference" / "dcsa-facilities.csv")
    assert {"AEJEA"} <= {t["UNLOCODE"] for t in terminals if t["Facility SMDG Code"] == "DPWJA"}
    manifests = rows(F / "reference" / "dcsa-advancemanifestfilings-v300.csv")
    customs = rows(F / "reference" / "dcsa-customsreferences-v300.csv")
    reftypes = rows(F / "reference" / "dcsa-referencetypes.csv")
    sealtypes = rows(F / "reference" / "dcsa-sealtypecodes.csv")
    imo = rows(F / "reference" / "dcsa-imoclasses.csv")
    modes = rows(F / "reference" / "dcsa-modeoftransportcodes.csv")
    statuses = rows(F / "reference" / "dcsa-portcallstatuscodes-v300.csv")
    assert all(len(t) > 0 for t in (manifests, customs, reftypes, sealtypes, imo, modes, statuses))
    assert {r[next(iter(r))] for r in sealtypes} == {"KLP", "BLT", "WIR"}


def test_mmsi_flag_states_and_smdg_liners() -> None:
    mids = {r["MID"]: r["Country Code"] for r in rows(F / "reference" / "ais-mmsi-mid-country-codes.csv")}
    assert mids["211"] == "DE" and mids["224"] == "ES"  # 224651000 in the ORBCOMM sample is Spanish-flagged
    liners = {c["linerSMDGCode"]: c for c in json.loads((F / "reference" / "smdg-liner-codes-combined.json").read_text())}
    assert {"MSC", "HLC", "MSK"} <= set(liners)  # carriers named by the DCSA samples


def test_country_list_is_iso_3166_1_with_unlocodes_international_waters() -> None:
    """BV (Bouvet Island) was flagged as unknown in the demo (new-user review): the shipped list
    is UN/LOCODE's, which has no BV and has XZ (international waters)."""
    from scheldt.reference import country_names, is_known_country

    assert is_known_country("BV") and country_names()["BV"] == "Bouvet Island"
    assert is_known_country("XZ") and not is_known_country("XK")
    assert len(country_names()) == 249 + 1  # ISO 3166-1's 249 codes and XZ
