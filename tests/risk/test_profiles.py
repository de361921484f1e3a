"""Risk profile validation errors and scoring arithmetic."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from scheldt.domain.trips import TripDocument, TripFacts, TripKey, TripParty
from scheldt.risk.profiles import ProfileError, builtin_profile_text, evaluate, load_profile

BASE = """
name: test
version: 1
owner: Targeting cell
effective_from: 2026-01-01
lists:
  high_risk_ports:
    - {code: ECGYE, name: Guayaquil, since: 2024-01-01}
indicators:
  to_order_unknown_notify: {weight: 30}
  freight_paid_in_cash: {weight: 20}
"""


def error(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        load_profile(text, "p.yaml")
    return caught.value


def test_builtin_profile_is_valid_and_uses_every_indicator() -> None:
    from scheldt.risk.indicators import INDICATORS

    profile = load_profile(builtin_profile_text(), "built-in")
    assert profile.label == "antwerp-narcotics@3"
    assert set(profile.indicators) == set(INDICATORS) - {"gate_out_without_release",  # needs a national feed
                                                             "vessel_loitering_before_arrival"}  # fitted weight 0 (v3)
    assert {p.code for p in profile.lists.high_risk_ports} >= {"ECGYE", "BRSSZ", "COCTG", "PABLB", "CR"}


@pytest.mark.parametrize(("change", "where", "why"), [
    (("to_order_unknown_notify", "to_order_unknwon"), "p.yaml: indicators.to_order_unknwon",
     "to_order_unknwon: unknown indicator"),
    (("weight: 30", "weight: 0"), "p.yaml: indicators.to_order_unknown_notify.weight", "greater than 0"),
    (("weight: 30", "weight: 250"), "p.yaml: indicators.to_order_unknown_notify.weight", "less than or equal to 100"),
    (("weight: 30}", "weight: 30, params: {max_hours: 3}}"),
     "p.yaml: indicators.to_order_unknown_notify.params.max_hours",
     "to_order_unknown_notify.params: unknown parameter max_hours; known: none"),
    # a targeting review: an unquoted 0303 is octal 195 to YAML, refused with no hint
    (("indicators:", "  cover_loads:\n    - {prefix: 0303, name: frozen fish}\nindicators:"),
     "p.yaml: lists.cover_loads.0.prefix",
     "write the HS prefix in quotes, e.g. '0303': YAML read it as the number 195"),
    (("    - {code: ECGYE, name: Guayaquil, since: 2024-01-01}",
      "    - {code: ECGYE, name: Guayaquil, since: 2024-01-01}\n    - {code: ECGYE, name: Guayaquil, since: 2025-01-01}"),
     "p.yaml: lists.high_risk_ports.1",  # the entry, not the list (a profile review)
     "ECGYE is listed twice with overlapping dates (2024-01-01..open and 2025-01-01..open), entries 0 and 1"),
    (("code: ECGYE", "code: Guayaquil"), "p.yaml: lists.high_risk_ports.0.code", "String should match pattern"),
    (("since: 2024-01-01}", "since: 2024-01-01, grade: 0}"), "p.yaml: lists.high_risk_ports.0.grade", "greater than 0"),
    (("since: 2024-01-01}", "since: 2024-01-01, grade: 1.5}"), "p.yaml: lists.high_risk_ports.0.grade",
     "less than or equal to 1"),
    (("effective_from: 2026-01-01", "effective_from: 2026-01-01\neffective_to: 2025-01-01"), "p.yaml: effective_to",
     "effective_to 2025-01-01 is not after effective_from 2026-01-01"),
    (("owner: Targeting cell\n", ""), "p.yaml: owner", "Field required"),
    # found by trying bad input: these validated, then crashed or skewed scoring
    (("weight: 20}", "weight: 20, params: {}}"), None, None),
    (("freight_paid_in_cash: {weight: 20}", "quick_pickup: {weight: 20, params: {max_hours: .nan}}"),
     "p.yaml: indicators.quick_pickup.params.max_hours", "finite number"),
    (("freight_paid_in_cash: {weight: 20}", "new_consignee: {weight: 20, params: {first_seen_days: 1e300}}"),
     "p.yaml: indicators.new_consignee.params.first_seen_days", "less than or equal to 1000000"),
    (("freight_paid_in_cash: {weight: 20}", "quick_pickup: {weight: 20, params: {max_hours: -1}}"),
     "p.yaml: indicators.quick_pickup.params.max_hours", "greater than or equal to 0"),
    (("weight: 20}", "weight: .inf}"), "p.yaml: indicators.freight_paid_in_cash.weight", "finite number"),
    (("version: 1", "version: 1.10"), "p.yaml: version", "write the version as text in quotes"),
    (("effective_from: 2026-01-01", "effective_from: 2026-13-01"), "p.yaml: effective_from",
     "'2026-13-01' is not a valid date: month must be in 1..12"),
    # a regression review: an explicit tag YAML cannot build gave a traceback (a 500 in the API)
    (("effective_from: 2026-01-01", "effective_from: !!int abc"), "p.yaml", "not valid YAML: a value its tag"),
    (("effective_from", "max_points: !!bool maybe\neffective_from"), "p.yaml", "a value its tag cannot make (KeyError"),
    (("effective_from", "max_points: !!int\neffective_from"), "p.yaml", "a value its tag cannot make (IndexError"),
    (("effective_from: 2026-01-01", "effective_from: !!timestamp foo"), "p.yaml: effective_from",
     "'foo' is not a date (YYYY-MM-DD)"),
    (("  freight_paid_in_cash: {weight: 20}", "  freight_paid_in_cash: {weight: 20}\n  freight_paid_in_cash: {weight: 50}"),
     "p.yaml", "appears twice"),
    (("owner: Targeting cell", 'owner: "   "'), "p.yaml: owner", "should match pattern"),
    # profile-owner review: these validated, then every scoring divided by zero, or a yes was weight 1
    (("freight_paid_in_cash: {weight: 20}", "ais_gap_before_arrival: {weight: 5, params: {min_gap_hours: 0}}"),
     "p.yaml: indicators.ais_gap_before_arrival.params", "min_gap_hours must be more than 0"),
    (("freight_paid_in_cash: {weight: 20}", "vessel_loitering_before_arrival: {weight: 5, params: {min_hours: 0}}"),
     "p.yaml: indicators.vessel_loitering_before_arrival.params", "min_hours must be more than 0"),
    (("weight: 20}", "weight: yes}"), "p.yaml: indicators.freight_paid_in_cash.weight",
     "a number is needed here, not true (YAML reads yes/no/on/off as true/false)"),
    (("freight_paid_in_cash: {weight: 20}", "quick_pickup: {weight: 20, params: {max_hours: true}}"),
     "p.yaml: indicators.quick_pickup.params.max_hours", "a number is needed here, not true"),
    # a share of 5 was taken as 1, and a min_score of 150 or a min_share of 2 could never fire
    (("freight_paid_in_cash: {weight: 20}", "quick_pickup: {weight: 20, params: {perishable_strength: 5}}"),
     "p.yaml: indicators.quick_pickup.params", "perishable_strength is a strength: 1 is full, at most 1; 5 is out of range"),
    (("freight_paid_in_cash: {weight: 20}", "mass_gap: {weight: 20, params: {min_share: 2}}"),
     "p.yaml: indicators.mass_gap.params", "min_share is a share: 0.05 is 5 %, at most 1; 2 is out of range"),
    (("freight_paid_in_cash: {weight: 20}", "watchlist_match: {weight: 20, params: {min_score: 150}}"),
     "p.yaml: indicators.watchlist_match.params", "min_score is a match score out of 100, at most 100; 150 is out of range"),
    # a targeting review: 0.9 (for 90) validated, and acted as screening's 85
    (("freight_paid_in_cash: {weight: 20}", "watchlist_match: {weight: 20, params: {min_score: 0.9}}"),
     "p.yaml: indicators.watchlist_match.params", "min_score is a match score out of 100, from 85 (party screening "
     "keeps no match scoring less) to 100; 0.9 is out of range"),
    (("freight_paid_in_cash: {weight: 20}", "watchlist_match: {weight: 20, params: {min_score: 85}}"), None, None),
    (("freight_paid_in_cash: {weight: 20}", "mass_gap: {weight: 20, params: {min_share: 1}}"), None, None),
    # a profile review: a million-day window validated, then every scoring (ingest's re-score too) failed
    (("freight_paid_in_cash: {weight: 20}", "ais_gap_before_arrival: {weight: 5, params: {window_days: 1000000}}"),
     "p.yaml: indicators.ais_gap_before_arrival.params",
     "window_days is a number of days before arrival (3,650: ten years), at most 3650; 1e+06 is out of range"),
    (("freight_paid_in_cash: {weight: 20}", "new_consignee: {weight: 5, params: {first_seen_days: 740000}}"),
     "p.yaml: indicators.new_consignee.params", "first_seen_days is a number of days (3,650: ten years), at most 3650"),
    (("freight_paid_in_cash: {weight: 20}",
      "vessel_loitering_before_arrival: {weight: 5, params: {window_days: 3650}}"), None, None),
    # analyst review: a yes was grade 1 (a listed port at full strength) and max_points 1 (every trip capped at 1)
    (("since: 2024-01-01}", "since: 2024-01-01, grade: yes}"), "p.yaml: lists.high_risk_ports.0.grade",
     "a number is needed here, not true"),
    (("effective_from", "max_points: yes\neffective_from"), "p.yaml: max_points", "a number is needed here, not true"),
    (("effective_from", "max_points: .inf\neffective_from"), "p.yaml: max_points", "finite number"),
    # regression review: a number was read as a date (0 as 1970-01-01)
    (("effective_from: 2026-01-01", "effective_from: 0"), "p.yaml: effective_from",
     "a date like 2026-01-31 is needed here, not the number 0"),
    (("since: 2024-01-01}", "since: 20240101}"), "p.yaml: lists.high_risk_ports.0.since", "not the number 20240101"),
])
def test_invalid_profiles_say_where_and_why(change: tuple[str, str], where: str | None, why: str | None) -> None:
    if where is None:  # an empty params mapping is fine
        assert load_profile(BASE.replace(*change), "p.yaml").label == "test@1"
        return
    exc = error(BASE.replace(*change))
    assert re.sub(r" line \d+:", ":", exc.where) == where and why in exc.why


def test_an_error_names_the_line_of_the_field_at_fault() -> None:
    """A review found errors naming a field path an officer had to find in a long file."""
    exc = error(BASE.replace("weight: 30", "weight: 0"))
    assert exc.where == "p.yaml line 10: indicators.to_order_unknown_notify.weight"
    exc = error(BASE.replace("code: ECGYE", "code: Guayaquil"))
    assert exc.where == "p.yaml line 8: lists.high_risk_ports.0.code"
    assert error(BASE.replace("owner: Targeting cell\n", "")).where == "p.yaml: owner"  # missing: no line
    # a targeting review: a misspelt indicator or parameter was placed on the line of indicators:
    assert error(BASE.replace("freight_paid_in_cash", "freight_paid_in_csah")).where == (
        "p.yaml line 11: indicators.freight_paid_in_csah")
    assert error(BASE.replace("weight: 20}", "weight: 20,\n    params: {max_hours: 3}}")).where == (
        "p.yaml line 12: indicators.freight_paid_in_cash.params.max_hours")
    # an impossible date too (a docs review: "not a valid date: day is out of range for month", no place)
    exc = error(BASE.replace("since: 2024-01-01}", "since: 2024-02-30}"))
    assert (exc.where, exc.why) == ("p.yaml line 8: lists.high_risk_ports.0",
                                    "'2024-02-30' is not a valid date: day is out of range for month")


def test_aliases_and_oversized_texts_are_refused() -> None:
    """Nested YAML aliases expand a short text into millions of items to validate."""
    bomb = BASE.replace("lists:", "x: &a [1, 1, 1]\ny: &b [*a, *a, *a]\nlists:")
    exc = error(bomb)
    assert exc.where == "p.yaml" and "an alias (*name) is not allowed in a profile" in exc.why and "line 7, column 8" in exc.why
    big = BASE + "description: " + "x" * 300_000 + "\n"
    assert error(big).why == f"{len(big):,} bytes: a profile is at most 262,144 bytes"
    # counted in bytes, as the API counts a body (a review's 1.8 MB of "é" passed as 0.9 M characters)
    wide = BASE + "description: " + "é" * 140_000 + "\n"
    assert len(wide) < 262_144 < len(wide.encode()) and "bytes: a profile is at most 262,144" in error(wide).why


def test_max_points_are_at_most_100_and_a_version_is_what_it_says() -> None:
    """Profile-owner review: max_points 400 scored a trip 400 on a 0-100 scale; version 032
    went live as @26 (YAML 1.1 octal), 0x21 as @33."""
    above = BASE.replace("indicators:", "max_points: 400\nindicators:")
    over = error(above)
    assert (over.where, over.why) == ("p.yaml line 9: max_points", "400 is above 100: scores are 0-100, and without "
                                                                    "a live model the score is the points")
    for written in ('"400"', "1e3", "100.0001"):  # a string to YAML, a number to the profile (regression review)
        exc = error(BASE.replace("indicators:", f"max_points: {written}\nindicators:"))
        assert (exc.where, exc.why.split(" is above")[0]) == ("p.yaml line 9: max_points", written.strip('"'))
    assert load_profile(BASE.replace("indicators:", "max_points: 1e2\nindicators:")).max_points == 100
    for written, read in (("032", 26), ("0x21", 33), ("1_0", 10)):
        exc = error(re.sub(r"^version: .*$", f"version: {written}", BASE, flags=re.M))
        assert (exc.where, exc.why) == ("p.yaml line 3: version", f"write the version as text in quotes: YAML reads "
                                                                  f"{written} as the number {read}")
    assert load_profile(re.sub(r"^version: .*$", "version: 7", BASE, flags=re.M)).version == "7"
    # a text a store already holds is read as it was stored (its label, its cap): it stays usable
    octal = re.sub(r"^version: .*$", "version: 032", above, flags=re.M)
    kept = load_profile(octal, "p.yaml", stored=True)
    assert (kept.label, kept.max_points) == ("test@26", 400)
    big = BASE + "description: " + "x" * 300_000 + "\n"  # stored under the earlier limit of 1 M characters
    assert load_profile(big, "p.yaml", stored=True).description == "x" * 300_000
    # a stored text is parsed once (scoring reads the live one for every batch); a new text each time
    assert load_profile(octal, "p.yaml", stored=True) is kept
    assert load_profile(BASE, "p.yaml") is not load_profile(BASE, "p.yaml")
    with pytest.raises(ProfileError):  # a stored text that does not parse keeps saying so
        load_profile("name: [unclosed", "p.yaml", stored=True)


def test_not_yaml_and_not_a_mapping() -> None:
    assert "not valid YAML" in error("name: [unclosed").why
    # analyst review: 4 KB of nested lists gave a RecursionError traceback (a 500 through the API)
    deep = error(BASE + "description: " + "[" * 2000 + "]" * 2000 + "\n")
    assert (deep.where, deep.why) == ("p.yaml", "not valid YAML: nested too deeply")
    assert "a profile is a YAML mapping" in error("- a\n- b").why


def test_points_are_weight_times_strength_capped_and_ordered() -> None:
    profile = load_profile(BASE.replace("effective_from", "max_points: 40\neffective_from"), "p.yaml")
    doc = TripDocument("BL1", "TRD", datetime(2026, 2, 1, tzinfo=UTC), to_order=True, freight_payment="A",
                       parties=(TripParty("shipper", "X"),))
    score = evaluate(profile, TripFacts(TripKey("APZU4812090", "BL1", ""), datetime(2026, 2, 2, tzinfo=UTC), documents=(doc,)))
    assert score.points == 40.0  # 30 + 20 capped at max_points
    assert [(r.indicator, r.points) for r in score.reasons] == [("to_order_unknown_notify", 30.0), ("freight_paid_in_cash", 20.0)]
    assert score.reasons[0].sentence == 'A "to order" bill of lading with no known notify party.'


def test_an_overlapping_port_and_bad_effective_dates_name_their_own_lines() -> None:
    """A profile review: the overlap pointed at the `high_risk_ports:` line, and effective_to not
    after effective_from named no line or field at all."""
    twice = BASE.replace("    - {code: ECGYE, name: Guayaquil, since: 2024-01-01}",
                         "    - {code: ECGYE, name: Guayaquil, since: 2024-01-01}\n"
                         "    - {code: ECGYE, name: Guayaquil, since: 2025-01-01}")
    second = twice.splitlines().index("    - {code: ECGYE, name: Guayaquil, since: 2025-01-01}") + 1
    assert error(twice).where == f"p.yaml line {second}: lists.high_risk_ports.1"
    dates = BASE.replace("effective_from: 2026-01-01", "effective_from: 2026-01-01\neffective_to: 2025-01-01")
    line = dates.splitlines().index("effective_to: 2025-01-01") + 1
    assert error(dates).where == f"p.yaml line {line}: effective_to"


def test_a_stored_version_with_a_min_score_below_screening_keeps_loading() -> None:
    """A regression review: a version stored with min_score 80 before that was refused stopped
    every scoring, backtest and ingest re-score after the upgrade; a new text is still refused."""
    text = BASE.replace("freight_paid_in_cash: {weight: 20}", "watchlist_match: {weight: 20, params: {min_score: 80}}")
    assert load_profile(text, "p.yaml", stored=True).indicators["watchlist_match"].params == {"min_score": 80.0}
    with pytest.raises(ProfileError, match="min_score is a match score out of 100, from 85"):
        load_profile(text, "p.yaml")
