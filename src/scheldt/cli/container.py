"""``scheldt container NUMBER``: a container's trips and their events."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from scheldt.cli.common import audit_command, errors_reported, print_json, store
from scheldt.domain.shipping import goods_in
from scheldt.workflows.shipping import ContainerTimeline, container_timeline
from scheldt.workflows.trip_views import distinct_notes


def _describe(e: dict[str, Any]) -> str:
    bits = [f"{e['kind']} {e['event_type']}".strip(), f"({e['classifier']})" if e["classifier"] else ""]
    if e["unlocode"]:
        bits.append(f"at {e['unlocode']}" + (f" {e['facility_code']}" if e["facility_code"] else ""))
    if e["vessel_name"] or e["vessel_imo"]:
        bits.append(" ".join(b for b in ("vessel", e["vessel_name"], f"IMO {e['vessel_imo']}" if e["vessel_imo"] else "") if b))
    details = e["details"] or {}
    # the box as the event saw it: what a reason ("empty container gated in", "reefer container
    # (45R1)") rests on (a targeting review could not check either from this timeline)
    if details.get("iso_equipment_code"):
        bits.append(f"box {details['iso_equipment_code']}")
    if "stowage_cell" not in details and isinstance(details.get("empty"), bool):
        bits.append("empty" if details["empty"] else "laden")
    seals = details.get("seals") or []
    if seals:
        bits.append("seals " + ", ".join(f"{s.get('number')} ({s.get('source', '?')})" for s in seals))
    bits += _stowage_and_mass(details)
    if e["retracted_by"]:
        bits.append(f"RETRACTED by {e['retracted_by']}")
    elif details.get("retracted"):  # a VGM declaration withdrawn by its sender (isRetracted)
        bits.append("RETRACTED by its sender")
    return " ".join(b for b in bits if b)


def _sources(e: dict[str, Any]) -> str:
    """Where an event came from, and where each copy of it received again came from
    (``repeats``: :func:`~scheldt.domain.trips.fold_repeats`), a line each; a copy another
    organisation supplied names it."""
    lines = [e["source"]]
    for r in e.get("repeats") or []:
        by = f" (from {r['supplied_by']})" if r["supplied_by"] and r["supplied_by"] != e.get("supplied_by") else ""
        lines.append(f"received again{by}: {r['source']}")
    return "\n".join(lines)


def _stowage_and_mass(details: dict[str, Any]) -> list[str]:
    """What an officer reads of a bay plan or VGM line: the cell, full or empty, the port of
    discharge, the masses in kg (an ingest review: stowage lines said none of it, and a
    retracted VGM read as live)."""
    bits = [f"cell {details['stowage_cell']}" if details.get("stowage_cell") else "",
            {True: "empty", False: "full"}.get(details.get("empty"), "") if "stowage_cell" in details else "",
            f"for {details['port_of_discharge']}" if details.get("port_of_discharge") else ""]
    for key, name in (("gross_mass_kg", "gross"), ("verified_gross_mass_kg", "VGM")):
        if isinstance(details.get(key), int | float):
            bits.append(f"{name} {details[key]:,.0f} kg")
    return [b for b in bits if b]


def _as_json(t: ContainerTimeline) -> dict[str, Any]:
    return {
        "container_number": t.container_number,
        "number_flag": t.number_flag or None,
        "trips": [
            {"container_number": trip.key.container_number, "document_ref": trip.key.document_ref,
             "voyage": trip.key.voyage, "events": trip.events, "vessel_track": track, "documents": docs,
             "declarations": decls, "notes": notes}
            for trip, track, docs, decls, notes in zip(t.trips, t.vessel_tracks, t.documents, t.trip_declarations,
                                                       t.trip_notes, strict=True)
        ],
        "documents_without_trip": t.unmatched_documents,
        "declarations_without_trip": t.declarations,
    }


def _declaration_line(decl: dict[str, Any]) -> str:
    """One customs declaration as a line (escaped for rich)."""
    return escape(f"declaration {decl['declaration_ref']} filed {decl['filed_at']:%Y-%m-%d}: HS {decl['hs_code']} "
                  f"from {decl['origin_country']}, B/L {decl['bill_of_lading_ref'] or '-'}")


def _doc_line(d: dict[str, Any], number: str) -> str:
    """One document version as a line; the seals and goods are those of container ``number`` only."""
    parties = "; ".join(f"{p['role']}: {p['name']}" for p in d["parties"] if p.get("name"))
    seals = ", ".join(f"{s['number']} ({s['source']})" if s.get("source") else s["number"]
                      for c in d["containers"] if c.get("number") == number for s in c.get("seals", []))
    goods = "; ".join(" ".join(b for b in (f"HS {g['hs_code']}" if g.get("hs_code") else "",
                                           str(g.get("description") or "")[:80]) if b)
                      for g in goods_in(d.get("goods") or [], number, (c.get("number") for c in d["containers"]))
                      if g.get("hs_code") or g.get("description"))
    bits = [f"{d['document_type']} {d['document_ref'] or '(no reference)'}", d["status"],
            f"booking {d['booking_ref']}" if d["booking_ref"] else "", "TO ORDER" if d["to_order"] else "",
            f"{d['port_of_loading']} -> {d['port_of_discharge']}" if d["port_of_loading"] or d["port_of_discharge"] else "",
            parties, f"goods {goods}" if goods else "", f"seals {seals}" if seals else "",
            f"received {d['received_at']:%Y-%m-%d %H:%M} UTC"]
    # each problem once: a code's flag is stored per goods item that carries it, and an unknown HS
    # code by the reader and by the reference check (reviews read one twice)
    flags = "; ".join(n["why"] for n in distinct_notes([d]) if n["why"])
    return " | ".join(b for b in bits if b) + (f" | flags: {flags}" if flags else "")


def container(
    number: Annotated[str, typer.Argument(help="ISO 6346 container number, e.g. APZU4812090.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
) -> None:
    """A container's timeline, trip by trip: documents, calls, vessels, seals, events, flags.
    Exits 1 when nothing at all is known of the container (as grep does for no match), so a
    script can tell an unknown number from a known one."""
    with errors_reported(), store(existing=True) as uow:
        timeline = container_timeline(uow, number)
        # a timeline with its parties is a read of data, audited as the API's container page is
        # (an audit review: `user list` and `misp export` were in the log, this was not)
        audit_command(uow, "container", "container", timeline.container_number, entry_kind="read",
                      trips=len(timeline.trips))
    unknown = not timeline.trips and not timeline.unmatched_documents and not timeline.declarations
    if as_json:
        print_json(_as_json(timeline))
        if unknown:
            raise typer.Exit(1)
        return
    out = Console(width=max(Console().width, 140))
    if timeline.number_flag:
        out.print(f"[yellow]flag[/yellow] {escape(timeline.number_flag)}")
    if timeline.declarations:
        out.print("declarations naming this container or its documents, matched to no trip:")
    for decl in timeline.declarations:
        out.print("  " + _declaration_line(decl))
    if not timeline.trips and not timeline.unmatched_documents:
        out.print(f"no events for container {escape(timeline.container_number)}")
        if unknown:
            raise typer.Exit(1)
        return
    if timeline.unmatched_documents:
        out.print("documents naming this container, matched to no trip:")
    for d in timeline.unmatched_documents:
        out.print("  document " + escape(_doc_line(d, timeline.container_number)))
    for trip, track, docs, decls, notes in zip(timeline.trips, timeline.vessel_tracks, timeline.documents,
                                               timeline.trip_declarations, timeline.trip_notes, strict=True):
        out.print(f"trip {escape(trip.key.label())}")
        for d in docs:
            out.print("  document " + escape(_doc_line(d, timeline.container_number)))
        for note in notes:
            out.print(f"  note: {escape(note['why'])} ({escape(note['source'])})")
        for decl in decls:
            out.print("  " + _declaration_line(decl))
        table = Table()
        for col in ("time (UTC)", "event", "documents", "flags", "source"):
            table.add_column(col, overflow="fold")
        for e in trip.events:
            docs = ", ".join(f"{k} {v}" for k, v in (("BKG", e["booking_ref"]), ("TRD", e["transport_document_ref"])) if v)
            flags = "; ".join(dict.fromkeys(f["why"] for f in e["flags"]))
            table.add_row(f"{e['event_time']:%Y-%m-%d %H:%M} UTC", escape(_describe(e)), escape(docs), escape(flags),
                          escape(_sources(e)))
        out.print(table)
        if track:
            last = track[-1]
            out.print(f"  vessel track: {len(track)} AIS positions; last {last['observed_at']:%Y-%m-%d %H:%M} UTC at "
                      f"{last['latitude']:.4f}, {last['longitude']:.4f} ({escape(last['nav_status'] or 'status unknown')})")


def register(app: typer.Typer) -> None:
    """Add ``container`` to the command tree."""
    app.command("container")(container)
