"""Scan-order moves: what each action records, and what it refuses to drop."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheldt.domain.inspection import (
    Status,
    apply,
    check_plan,
    check_seizure_mass,
    check_shift_ahead,
    current_shift,
    heaviest_known_load,
    seal_numbers,
    shift_end,
)
from scheldt.errors import InputError


@pytest.mark.parametrize(("status", "action", "data", "where", "why"), [
    # a scan-team review: these answered 200 and kept neither the image reference nor the reason
    (Status.PLANNED, "search", {"result": "nothing_found", "nii_image_ref": "IMG-1", "reason": "r"}, "nii_image_ref",
     "is not recorded with a search (a search records concealment, drug_type, mass_kg, method, notes, reason, "
     "result, seals_found)"),
    (Status.SCANNED, "clear", {"notes": "fine"}, "notes", "is not recorded with a clear (a clear records nothing but the move)"),
    (Status.PLANNED, "scan", {"nii_image_ref": "IMG-1", "verdict": "clear", "result": "seizure"}, "result",
     "is not recorded with a scan (a scan records nii_image_ref, verdict)"),
    (Status.PLANNED, "cancel", {"reason": "moved", "mass_kg": 3.0}, "mass_kg",
     "is not recorded with a cancel (a cancel records reason)"),
    (Status.SEARCHED, "correct", {"result": "nothing_found", "reason": "r", "verdict": "clear"}, "verdict",
     "a correction is of the search record only; the scan stays as recorded"),
])
def test_a_field_the_action_does_not_record_is_refused(status: Status, action: str, data: dict, where: str,
                                                        why: str) -> None:
    with pytest.raises(InputError) as caught:
        apply(status, "risk", action, data)
    assert (caught.value.where, caught.value.why) == (where, why)


def test_empty_fields_of_other_forms_are_no_stray_fields() -> None:
    change = apply(Status.SCANNED, "risk", "search", {"result": "nothing_found", "reason": "", "nii_image_ref": None})
    assert change.to_status == Status.SEARCHED and change.fields == {"result": "nothing_found", "notes": "",
                                                                         "seals_found": ""}


def test_a_seizure_may_say_its_method_and_nothing_else_does() -> None:
    """An inspection review: a seizure recorded drug, mass and hiding place, but not how the
    drugs came to be in the box (rip-on/rip-off, cover load...), which issue 6's seizure reports
    carry. Optional: "" when the team cannot tell."""
    seizure = {"result": "seizure", "drug_type": "cocaine", "mass_kg": 12.0, "concealment": "behind_doors"}
    assert apply(Status.SCANNED, "risk", "search", seizure).fields["method"] == ""
    said = apply(Status.SCANNED, "risk", "search", seizure | {"method": "rip_on_rip_off"})
    assert said.fields["method"] == "rip_on_rip_off"
    with pytest.raises(InputError) as caught:
        apply(Status.SCANNED, "risk", "search", seizure | {"method": "ripped"})
    assert (caught.value.where, caught.value.why) == (
        "method", "'ripped' is not one of rip_on_rip_off, cover_load, release_code_fraud, other")
    with pytest.raises(InputError, match="is only recorded with a seizure, not with nothing found"):
        apply(Status.SCANNED, "risk", "search", {"result": "nothing_found", "method": "cover_load"})
    # a correction to "nothing found" drops it with the other seizure facts
    assert apply(Status.SEARCHED, "risk", "correct", {"result": "nothing_found", "reason": "r"}).fields["method"] == ""


def test_a_search_without_a_scan_says_why() -> None:
    """A review recorded a seizure on a box never scanned; the dashboard counted it as searched
    after the scan."""
    seizure = {"result": "seizure", "drug_type": "cocaine", "mass_kg": 12.0, "concealment": "behind_doors"}
    with pytest.raises(InputError) as caught:
        apply(Status.PLANNED, "manual", "search", seizure)
    assert caught.value.where == "reason" and caught.value.why.startswith("this order was never scanned: record the "
                                                                          "scan first, or say why")
    change = apply(Status.PLANNED, "manual", "search", seizure | {"reason": " tip-off: bags behind the doors "})
    assert change.to_status == Status.SEARCHED and change.fields["reason"] == "tip-off: bags behind the doors"
    with pytest.raises(InputError, match="with a search without a scan only"):
        apply(Status.SCANNED, "manual", "search", seizure | {"reason": "why not"})


@pytest.mark.parametrize(("day", "shift", "ends_utc"), [
    (date(2026, 10, 24), "night", datetime(2026, 10, 25, 5, 0, tzinfo=UTC)),  # 06:00 CET: a 9-hour night
    (date(2026, 3, 28), "night", datetime(2026, 3, 29, 4, 0, tzinfo=UTC)),  # 06:00 CEST: a 7-hour night
    (date(2026, 6, 1), "night", datetime(2026, 6, 2, 4, 0, tzinfo=UTC)),
    (date(2026, 10, 25), "early", datetime(2026, 10, 25, 13, 0, tzinfo=UTC)),
    (date(2026, 3, 29), "late", datetime(2026, 3, 29, 20, 0, tzinfo=UTC)),
])
def test_a_shift_ends_when_the_next_starts_by_the_port_clock(day: date, shift: str, ends_utc: datetime) -> None:
    # a scan-team review: the night shifts of the clock changes ended at 05:00 and 07:00 port time
    end = shift_end(day, shift)
    assert end == ends_utc and end.astimezone(UTC) == ends_utc
    assert end.hour in (6, 14, 22)


def test_the_night_shift_of_the_autumn_clock_change_takes_plans_until_six() -> None:
    at_0530 = datetime(2026, 10, 25, 4, 30, tzinfo=UTC)  # 05:30 CET, still the night of the 24th
    assert current_shift(at_0530) == (date(2026, 10, 24), "night")
    check_shift_ahead(date(2026, 10, 24), "night", at_0530)  # not ended
    at_0640 = datetime(2026, 3, 29, 4, 40, tzinfo=UTC)  # 06:40 CEST: the early shift has begun
    assert current_shift(at_0640) == (date(2026, 3, 29), "early")
    with pytest.raises(InputError) as caught:
        check_shift_ahead(date(2026, 3, 28), "night", at_0640)
    assert caught.value.why == ("the night shift of 2026-03-28 ended at 2026-03-29 06:00 port time: plan into the "
                                "current shift or a later one")


@pytest.mark.parametrize("typed", ["SC-2/2026-12-05/0001\u200b", "\ufeffSC-2/2026-12-05/0001",
                                   "ＳＣ-2/2026-12-05/0001", " SC-2/2026-12-05/0001 ", "SC-2/2026-12-05/0001\u034f",
                                   "SC-2/2026-12-05/0001\u2800"])
def test_an_image_reference_is_the_one_the_archive_names_however_it_was_typed(typed: str) -> None:
    """An officer review recorded one image for two boxes by adding a zero-width space or typing
    it full-width (an East Asian input method): the reference is stored as the archive names it,
    so the one-image-one-box check sees it."""
    change = apply(Status.PLANNED, "risk", "scan", {"nii_image_ref": typed, "verdict": "clear"})
    assert change.fields["nii_image_ref"] == "SC-2/2026-12-05/0001"


def test_an_image_reference_keeps_the_marks_that_spell_its_letters_and_refuses_controls() -> None:
    """A regression review: every combining mark was dropped, so two Devanagari references
    became one; a tab inside one was deleted, not refused."""
    scan = lambda ref: apply(Status.PLANNED, "risk", "scan", {"nii_image_ref": ref, "verdict": "clear"})  # noqa: E731
    assert scan("NII-स्कैन-7").fields["nii_image_ref"] == "NII-स्कैन-7" != scan("NII-सकन-7").fields["nii_image_ref"]
    with pytest.raises(InputError, match="holds a control character"):
        scan("SC\t12")
    with pytest.raises(InputError, match="is required"):
        scan("\u034f\u200b")


@pytest.mark.parametrize("reason", ["\u200b", " \u200b\u200d ", "\ufeff", "\u00ad", "\u2800", "\u034f", "\u3164"])
def test_a_required_reason_must_say_something_visible(reason: str) -> None:
    with pytest.raises(InputError, match="is required"):
        check_plan("manual", "night", reason)
    with pytest.raises(InputError, match="is required"):
        apply(Status.PLANNED, "risk", "cancel", {"reason": reason})
    with pytest.raises(InputError, match="never scanned"):
        apply(Status.PLANNED, "risk", "search", {"result": "nothing_found", "reason": reason})
    assert check_plan("manual", "night", "tip-off\u200b") == "tip-off\u200b"  # kept as typed when it says something


def test_a_seizure_may_not_outweigh_the_load_the_box_can_hold() -> None:
    """An officer review: a seizure as heavy as the box with its steel (the VGM) was accepted;
    where the VGM declaration gives the tare, the load is the VGM less the tare."""
    declared = {"events": [{"verified_gross_mass_kg": 17_497.0, "tare_kg": 4_600.0}],
                "documents": [{"gross_mass_kg": 12_862.0}]}
    load = heaviest_known_load(declared)
    assert load == (12_897.0, "17,497 kg gross by its VGM less the box's declared tare of 4,600 kg")
    check_seizure_mass(12_897.0, load)
    with pytest.raises(InputError, match=r"^mass_kg: 12,897\.5 kg is more than the container's load can weigh "
                                         r"\(12,897 kg: 17,497 kg gross by its VGM less"):
        check_seizure_mass(12_897.5, load)
    assert heaviest_known_load({"events": [{"verified_gross_mass_kg": 17_497.0}]}) == (
        17_497.0, "17,497 kg gross by its VGM, box and load together")
    assert heaviest_known_load({"events": [], "documents": [{"gross_mass_kg": 12_862.0}]}) == (
        12_862.0, "12,862 kg of cargo by its transport document")
    assert heaviest_known_load({"events": []}) == (None, "") and heaviest_known_load(None) == (None, "")
    check_seizure_mass(99_999.0, (None, ""))  # nothing known: nothing to hold it against


@pytest.mark.parametrize(("typed", "kept"), [
    ("sl123456, SL999888", "SL123456, SL999888"), (" SL-1/A ;SL.2  SL-1/A", "SL-1/A, SL.2"), ("", ""), (None, "")])
def test_the_seals_a_search_found_are_kept_as_numbers(typed: str | None, kept: str) -> None:
    """A search team review: the seal numbers read on the box (for rip-on/rip-off, the seal
    replaced on the way) had no field, and the notes they were put in reach no seizure report."""
    assert seal_numbers(typed) == kept
    change = apply(Status.SCANNED, "risk", "search", {"result": "nothing_found", "seals_found": typed})
    assert change.fields["seals_found"] == kept


@pytest.mark.parametrize(("typed", "why"), [
    ("SL 12#4", "'12#4' is not a seal number"), ("-SL1", "'-SL1' is not a seal number"),
    (", ".join(f"S{i}" for i in range(11)), "11 seal numbers: at most 10"), (["SL1"], "give the seal numbers as text")])
def test_what_is_no_seal_number_is_refused_naming_the_field(typed: object, why: str) -> None:
    with pytest.raises(InputError, match=re.escape(why)) as caught:
        seal_numbers(typed)
    assert caught.value.where == "seals_found"


@given(st.lists(st.from_regex(r"[A-Z0-9]([A-Z0-9./-]{0,10}[A-Z0-9])?", fullmatch=True), min_size=1, max_size=10,
                unique=True), st.sampled_from([", ", ",", ";", " ", " ; "]))
def test_seal_numbers_read_back_whatever_separates_them(numbers: list[str], separator: str) -> None:
    assert seal_numbers(separator.join(numbers)).split(", ") == numbers
