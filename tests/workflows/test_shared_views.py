"""How the workbench's exchange pages word a shared item."""

from __future__ import annotations

from scheldt.workflows.shared_views import _lines, _title


def test_a_seizure_report_reads_as_the_rest_of_the_workbench() -> None:
    """A workbench review: a seizure's page read "in_cargo" and "seized at:
    2026-12-04T01:14:58.576Z" where every other page writes "in cargo" and "01:14 UTC"."""
    seizure = {"drug_type": "cocaine", "mass_kg": 125.0, "concealment": "in_cargo",
               "seized_at": "2026-12-04T01:14:58.576Z", "port_of_loading": "ECGYE",
               "description": "bags behind the doors"}
    assert _title("seizure-report", seizure) == "Seizure: cocaine 125 kg, in cargo"
    assert _lines("seizure-report", seizure) == ["bags behind the doors", "port of loading: ECGYE",
                                                 "seized at: 2026-12-04 01:14 UTC"]
