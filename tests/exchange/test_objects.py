"""Sharing terms travel with STIX objects; ingest keeps good objects, names bad ones, and
re-sending adds nothing; per-field markings are removed for requesters who may not see them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from scheldt.domain.access import Organisation, OrgKind
from scheldt.domain.exchange import TLP_MARKING_IDS, Requester, Tlp, tlp_marking_definition
from scheldt.errors import InputError
from scheldt.exchange.objects import Sharing, sharing_of, with_sharing
from scheldt.store.db import unit_of_work
from scheldt.workflows.sharing import ingest_objects, served

NOW = datetime(2026, 3, 1, tzinfo=UTC)
NOTE = {"type": "note", "spec_version": "2.1", "id": "note--6a0b1f4e-5c1b-4b7e-9a77-1d2c3b4a5f60",
        "created": "2026-03-01T08:00:00.000Z", "modified": "2026-03-01T08:00:00.000Z",
        "content": "Container MSCU1234566 from ECGYE: consignee registered 3 weeks ago", "object_refs": [
            "identity--0a6e7d6c-1111-4222-8333-444455556666"]}


def test_sharing_terms_round_trip_through_the_extension() -> None:
    terms = Sharing("alert", Tlp.RED, "be-us", "H2", "B", "2", (("us-cbp", "liaison"),),
                    datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))
    obj = with_sharing(NOTE, terms)
    assert obj["object_marking_refs"] == [TLP_MARKING_IDS[Tlp.RED]]
    assert sharing_of(obj, None) == terms
    assert tlp_marking_definition(Tlp.AMBER_STRICT)["name"] == "TLP:AMBER+STRICT"


def test_objects_without_scheldt_terms_default_to_the_strictest_safe_reading() -> None:
    plain = sharing_of(NOTE, "be-us")
    assert (plain.tlp, plain.group, plain.reliability, plain.credibility) == (Tlp.AMBER_STRICT, "be-us", "X", "4")
    with pytest.raises(InputError, match="needs a sharing group"):
        sharing_of(NOTE, None)
    red = dict(NOTE, object_marking_refs=[TLP_MARKING_IDS[Tlp.RED]])
    with pytest.raises(InputError, match="TLP:RED needs named recipients"):
        sharing_of(red, "be-us")


def test_ingest_keeps_good_objects_names_bad_ones_and_is_idempotent(engine: Engine) -> None:
    good = with_sharing(NOTE, Sharing("alert", Tlp.AMBER, "be-us", "H1", "A", "1"))
    broken = {"type": "note", "spec_version": "2.1", "id": "note--nonsense", "created": "x"}
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        report = ingest_objects(uow, [good, broken, 7], "be-customs", "local", None, NOW)
    assert [a[0] for a in report.added] == [NOTE["id"]]
    assert [f[0] for f in report.failed] == ["note--nonsense", "objects[2]"]
    assert "not valid STIX 2.1" in report.failed[0][1]
    with unit_of_work(engine) as uow:
        again = ingest_objects(uow, [good], "be-customs", "local", None, NOW)
        assert (again.added, again.known) == ([], [(NOTE["id"], NOTE["modified"])])
        assert uow.exchange.count() == 1


def test_fields_under_a_stricter_granular_marking_are_removed(engine: Engine) -> None:
    obj = with_sharing(NOTE, Sharing("alert", Tlp.GREEN, None))
    obj["granular_markings"] = [{"marking_ref": TLP_MARKING_IDS[Tlp.RED], "selectors": ["content"]}]
    obj["extensions"][next(iter(obj["extensions"]))]["recipients"] = ["us-cbp/liaison"]
    with unit_of_work(engine) as uow:
        uow.accounts.add_organisation(Organisation("be-customs", "BE", OrgKind.AGENCY), NOW)
        ingest_objects(uow, [obj], "be-customs", "local", None, NOW)
        stored = uow.exchange.page(None)[0]
        liaison = Requester("us-cbp", "agency", None, "liaison", frozenset())
        other = Requester("nl-customs", "agency", None, "analyst", frozenset())
        assert served(uow, liaison, stored)["content"] == NOTE["content"]
        hidden = served(uow, other, stored)
    assert "content" not in hidden and "granular_markings" not in hidden and hidden["id"] == NOTE["id"]
