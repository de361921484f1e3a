"""The TAXII load benchmark's simulated items are ones Scheldt takes: each of its 300 item
templates, as the benchmark builds it, enters a node seeded as the benchmark seeds it, with no
object refused. A review's change of the sharing rules (no alert or seizure report under
TLP:CLEAR or AMBER, whatever way it comes in) made half of the benchmark's envelopes fail, and
its ingest figure counted the refusals."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from scheldt.store.db import unit_of_work
from scheldt.workflows.sharing import ingest_objects
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import taxii_load  # noqa: E402


def test_every_benchmark_item_enters_a_node_as_the_benchmark_seeds_it(engine: Engine) -> None:
    taxii_load.seed_scheldt(engine)
    templates = taxii_load.build_templates(300, seed=7)
    failed = []
    with unit_of_work(engine) as uow:
        for t in templates:
            objects = json.loads(f"[{t.text}]")
            group = None if t.collection == "community" else t.collection
            report = ingest_objects(uow, objects, t.owner, "taxii:bench", group, datetime.now(UTC))
            failed += report.failed
    assert failed == []
    assert {t.main_type for t in templates} == {"grouping", "indicator", "scheldt-seizure", "sighting"}



def test_the_ingest_baseline_checks_every_template_object_through_the_check_processes() -> None:
    from scheldt.exchange import stix_check

    templates = taxii_load.build_templates(12, seed=7)
    per_pass = sum(t.count for t in templates)
    figures = taxii_load.stix_check_alone(templates, envelope=64, seconds=0.05)
    assert figures["processes"] == 2  # the default, as the server checks
    assert figures["objects"] % per_pass == 0 and figures["objects"] >= per_pass  # whole passes over the templates
    assert figures["objects_per_s"] > 0
    assert stix_check._pool is None  # stopped: the server's own check processes start afterwards


def test_the_ingest_baseline_refuses_a_template_stix2_refuses() -> None:
    templates = taxii_load.build_templates(3, seed=7)
    objects = json.loads(f"[{templates[0].text}]")
    objects[0]["created"] = "yesterday"
    templates[0] = dataclasses.replace(templates[0], text=json.dumps(objects)[1:-1])
    with pytest.raises(RuntimeError, match="stix2 refuses a template object: .*created"):
        taxii_load.stix_check_alone(templates, envelope=500, seconds=0.01)
