"""A third review of the MISP withdrawals (ed94b3f): withdrawals of MISP copies open to more readers when a newer
event is refused for who may read it (share.import_misp)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from scheldt.exchange.objects import identity_id
from scheldt.store.db import unit_of_work
from tests.exchange.test_misp_withdrawals import ENTRY_ID, _alerts, _import, entry, event_json
from tests.workflows.test_share import NOW, seed

UID = "11111111-0000-4000-8000-0000000000a1"


def _open_to(engine: Engine, org: str, user: str) -> list[str]:
    with unit_of_work(engine) as uow:
        return [o.stix_id for o in uow.exchange.page(uow.exchange.requester(org, user), limit=100)]


def _note(ts: str, informant_tag: list | None = None, distribution: str | None = None) -> dict:
    informant = {"type": "text", "category": "Other", "value": "informant: J. Peeters", "uuid":
                 "22222222-0000-4000-8000-0000000000a1"}
    if informant_tag is not None:
        informant["Tag"] = informant_tag
    if distribution is not None:
        informant["distribution"] = distribution
    return {"uuid": UID, "info": "reefer feed", "date": "2026-02-20", "timestamp": ts, "Tag": [{"name": "tlp:green"}],
            "Orgc": {"name": "US", "uuid": identity_id("us-cbp").split("--")[1]},
            "Attribute": [{"type": "text", "category": "Other", "value": "MSCU1234566"}, informant]}


def test_a_foreign_event_whose_attribute_is_retagged_red_withdraws_its_green_note(engine: Engine,
                                                                                   tmp_path: Path) -> None:
    """The MISP user tags the informant's attribute tlp:red (the event stays tlp:green) and the
    event is imported again, later. foreign_note refuses it ("attribute <uuid>: is tagged
    TLP:RED, so the whole event is TLP:RED, which needs named recipients"): a refusal for who may
    read it, the originator's newest word being RED. import_misp decides "for its readers" from
    exc.where, which here is "attribute <uuid>" (neither "recipients"/"sharing_group" nor a
    _MARKING_FIELDS path), so nothing is withdrawn: the GREEN note naming the informant stays
    open to every agency, as the event-level tlp:red case (test_a_foreign_event_retagged_red_...)
    does not."""
    seed(engine, tmp_path)
    assert _import(engine, [_note("1771581600")]).report.failed == []
    assert f"note--{UID}" in _open_to(engine, "nl-customs", "analyst")
    refused = _import(engine, [_note("1771585200", [{"name": "tlp:red"}])])
    assert refused.report.failed and "TLP:RED" in refused.report.failed[0][1]
    assert f"note--{UID}" not in _open_to(engine, "nl-customs", "analyst")  # before: nl-customs read the informant


def test_a_foreign_event_whose_attribute_is_closed_withdraws_its_green_note(engine: Engine, tmp_path: Path) -> None:
    """The same with MISP's own way of narrowing an attribute: distribution 0 (your organisation
    only), read as AMBER+STRICT, which needs a sharing group: refused ("attribute <uuid>: has MISP
    distribution 0 ... needs a sharing group (--group)"), and the GREEN note stays open to all."""
    seed(engine, tmp_path)
    assert _import(engine, [_note("1771581600")]).report.failed == []
    refused = _import(engine, [_note("1771585200", distribution="0")])
    assert refused.report.failed and "distribution 0" in refused.report.failed[0][1]
    assert f"note--{UID}" not in _open_to(engine, "nl-customs", "analyst")


def test_an_event_by_another_organisation_retagged_red_does_not_withdraw_the_importer_s_entry(
        engine: Engine, tmp_path: Path) -> None:
    """ed94b3f checks that a MISP *deletion* is the item's own event by its creator (Orgc), so that
    "a nl-customs MISP user [cannot withdraw] us-cbp's entry by deleting an object in an event of its
    own" (test_misp_deletion_checks). The marking refusal takes the same event at its word: an
    event of nl-customs' (its own uuid, Orgc nl-customs) naming us-cbp's entry id, tagged tlp:red
    and dated later, imported as us-cbp, is refused before its objects are made ("TLP:RED needs
    named recipients") and stated_object(event) (no Orgc or uuid check) makes
    withdraw_laxer_versions delete us-cbp's GREEN entry: out of the watchlist store, its alerts gone."""
    trip_id = seed(engine, tmp_path)
    assert _import(engine, [event_json(entry())]).entries == [ENTRY_ID]
    forged = event_json(entry(NOW + timedelta(hours=1), org="nl-customs"))
    forged["uuid"] = "99999999-0000-4000-8000-0000000000a1"
    forged["Tag"] = [{"name": "tlp:red"} if t["name"] == "tlp:green" else t for t in forged["Tag"]]
    refused = _import(engine, [forged])
    assert refused.report.added == [] and refused.report.failed
    with unit_of_work(engine) as uow:
        live = [v for v in uow.exchange.versions(None, ENTRY_ID) if not v.revoked]
    assert live and ENTRY_ID in _open_to(engine, "nl-customs", "analyst") and _alerts(engine, trip_id)
