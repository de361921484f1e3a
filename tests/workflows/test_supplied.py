"""The names and reports of files shipping lines and terminals send (scheldt.workflows.supplied)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheldt.ingest.base import FileReport, Rejection
from scheldt.workflows.supplied import file_name, report_of


@pytest.mark.parametrize(("given_name", "kept"), [
    ("events.json", "events.json"),
    ("C:\\exports\\tnt page.json", "tnt_page.json"),
    ("../../etc/passwd", "passwd"),
    # a review: "_.htaccess" was kept as ".htaccess", "事件.json" as ".json", and "Été 事件 report.json"
    # as "t_report.json", which its sender could not find in the list
    ("_.htaccess", "htaccess"),
    ("事件.json", "事件.json"),
    ("Été 事件 report.json", "Été_事件_report.json"),
    ("Événements été 2026 — ☃.json", "Événements_été_2026_.json"),
    ("evil\u202egnp.json", "evil_gnp.json"),
    ("<img src=x onerror=alert(1)>.json", "img_src_x_onerror_alert_1_.json"),
    # a regression review: vowel signs and other combining marks were cut out ("ह_न_द_.json"), and a
    # macOS name in decomposed form lost its accents ("E_te_donne_es.json")
    ("हिन्दी.json", "हिन्दी.json"),
    ("ไทย_ข้อมูล.json", "ไทย_ข้อมูล.json"),
    ("عربيّة.json", "عربيّة.json"),
    ("E\u0301te\u0301 donne\u0301es.json", "Été_données.json"),
    ("...", "upload"),
    ("", "upload"),
])
def test_a_sent_files_name_is_kept_readable_and_safe(given_name: str, kept: str) -> None:
    assert file_name(given_name) == kept


@given(st.text(max_size=300))
def test_a_kept_name_is_one_safe_part_never_hidden(raw: str) -> None:
    name = file_name(raw)
    assert 0 < len(name) <= 100
    assert all(c in "._-" or unicodedata.category(c)[0] in "LMN" for c in name)
    assert not name.startswith((".", "_")) and unicodedata.category(name[0])[0] != "M"


def test_a_report_lists_refusals_in_the_order_of_the_file() -> None:
    """A review's report listed events[5] before events[3] (refused by different checks)."""
    report = FileReport("carrier-a/7/mixed.json", "dcsa-events", accepted=3, rejected=3, rejections=[
        Rejection("carrier-a/7/mixed.json$.events[10]", "documentReferences", "c"),
        Rejection("carrier-a/7/mixed.json$.events[5]", "documentReferences", "b"),
        Rejection("carrier-a/7/mixed.json$.events[3].eventDateTime", "eventDateTime", "a")])
    out = report_of(report)
    assert [r["why"] for r in out["rejections"]] == ["a", "b", "c"]
    assert out["rejections_listed"] == 3 and "outcomes" not in out
