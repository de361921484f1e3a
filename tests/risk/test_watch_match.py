"""Exact watchlist matching of a trip: container number, seal range, route in order, address."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from scheldt.domain.trips import TripDocument, TripEvent, TripFacts, TripKey, TripParty
from scheldt.risk.watch_match import (
    address_numbers,
    match,
    passes_route,
    same_address,
    seal_in_range,
    trip_ports,
    trip_seals,
)

T = datetime(2026, 2, 1, tzinfo=UTC)


def facts() -> TripFacts:
    doc = TripDocument("HLCUGYE2601", "TRD", T, port_of_loading="ECGYE", port_of_discharge="BEANR",
                       parties=(TripParty("consignee", "Fresh Fruit BV", "Kaai 1, 2030 Antwerpen", "BE"),),
                       seals=("EC 000150",))
    events = (TripEvent("EQUIPMENT", "DISC", "ACT", datetime(2026, 1, 30, tzinfo=UTC), "BEANR", seals=("BE777",)),
              TripEvent("EQUIPMENT", "LOAD", "ACT", datetime(2026, 1, 2, tzinfo=UTC), "ECGYE"),
              TripEvent("EQUIPMENT", "DISC", "ACT", datetime(2026, 1, 12, tzinfo=UTC), "PAONX"),
              TripEvent("EQUIPMENT", "LOAD", "ACT", datetime(2026, 1, 14, tzinfo=UTC), "PAONX"),
              TripEvent("EQUIPMENT", "LOAD", "PLN", datetime(2026, 1, 15, tzinfo=UTC), "USNYC"))
    return TripFacts(TripKey("MSCU1234566", "HLCUGYE2601", "602E"), T, events, (doc,))


def test_a_trip_matches_its_container_seal_route_and_address() -> None:
    f = facts()
    assert trip_ports(f) == ["ECGYE", "PAONX", "BEANR"]
    assert trip_seals(f) == ["EC 000150", "BE777"]
    assert match(f, "container", container_number="MSCU1234566").why == "container MSCU1234566 is on the watchlist"
    assert match(f, "container", container_number="MSCU1234567") is None
    seal = match(f, "seal-range", seal_from="EC000100", seal_to="EC000200")
    assert (seal.value, seal.why) == ("EC 000150", "seal EC 000150 is in the watched range EC000100 to EC000200")
    assert match(f, "seal-range", seal_from="EC000151", seal_to="EC000200") is None
    assert match(f, "route", route=("ECGYE", "BEANR")).why == "the trip passes ECGYE > BEANR (watched route)"
    assert match(f, "route", route=("BEANR", "ECGYE")) is None  # wrong order
    assert match(f, "route", route=("ECGYE", "USNYC")) is None  # a planned load is not a port passed
    hit = match(f, "address", address="kaai 1 2030 ANTWERPEN")
    assert hit.why == "the consignee Fresh Fruit BV is at a watched address"
    assert match(f, "address", address="Kaai 19, 2030 Antwerpen") is None
    assert match(f, "company", container_number="MSCU1234566") is None  # names are screened elsewhere


def test_seal_ranges_compare_numbers_within_one_prefix() -> None:
    assert seal_in_range("sl 150", "SL000100", "SL000200")
    assert not seal_in_range("XL000150", "SL000100", "SL000200")
    assert not seal_in_range("SL", "SL000100", "SL000200")
    assert same_address("Rue de la Loi 16, Bruxelles", "rue de la loi 16 bruxelles")
    assert same_address("Rue de la Loi 16, Bruxelles", "Rue de la Lio 16, Bruxelles")  # a slip
    assert not same_address("Rue de la Loi 16, Bruxelles", "Rue de la Loi 16A, Bruxelles")
    assert not same_address("", "")
    # a regression review: without a number, a city matched every address in it
    assert not same_address("Antwerpen", "Italielei Antwerpen") and not same_address("Dubai", "Dubai")
    # letters beyond a-z are transliterated, not deleted (a screening review: accented and
    # Cyrillic addresses matched nothing, not even themselves)
    assert same_address("Rua São João 500, Santos", "Rua Sao Joao 500 Santos")
    assert same_address("Straße des 17. Juni 10, 10623 Berlin", "Strasse des 17. Juni 10, 10623 Berlin")
    assert same_address("Ул. Ленина 5, 190000 Санкт-Петербург", "Ул. Ленина 5, 190000 Санкт-Петербург")
    assert same_address("Ул. Ленина 5, 190000 Санкт-Петербург", "Ul. Lenina 5, 190000 Sankt-Peterburg")
    assert not same_address("Rua São João 500, Santos", "Rua São Bento 500, Santos")
    # a number written against letters of another script stays a number (a regression review's
    # No. 88 and No. 66 of one Beijing street were one address)
    assert not same_address("北京市朝阳区建国路88号 100022", "北京市朝阳区建国路66号 100022")
    assert not same_address("東京都港区六本木6-10-1 106-0032", "東京都港区六本木7-10-1 106-0032")
    assert same_address("北京市朝阳区建国路88号 100022", "北京市朝阳区建国路88号, 100022")
    # full-width digits are digits; a house-number letter of another script stays with its number
    assert same_address("東京都港区芝浦１丁目２番３号", "東京都港区芝浦１丁目２番３号")
    assert same_address("東京都港区芝浦１丁目２番３号", "東京都港区芝浦1丁目2番3号")
    assert same_address("Ленина 16А, Москва", "Lenina 16A, Moskva")
    assert not same_address("Ленина 16А, Москва", "Ленина 16Б, Москва")
    # a number is one however it is written (a regression review: "N°32-16" vs "No 32-16", "д16" vs
    # "д. 16", "16А" vs "16 А", and Thai written without spaces)
    assert same_address("Carrera 7 N°32-16, Bogota", "Carrera 7 No 32-16, Bogota")
    assert same_address("ул. Ленина, д16, Москва", "ул. Ленина, д. 16, Москва")
    assert same_address("ул. Ленина 16А, Москва", "ул. Ленина 16 А, Москва")
    assert same_address("ถนนสุขุมวิท21 กรุงเทพ", "ถนนสุขุมวิท 21 กรุงเทพ")
    assert not same_address("Carrera 7 N°32-16, Bogota", "Carrera 7 N°32-18, Bogota")


def test_numbers_written_together_keep_their_order_and_a_postcode_its_space_or_none() -> None:
    # Colombian street, cross street and house: one set of numbers, another block (before, the
    # numbers compared as a set and these were one address)
    assert not same_address("Calle 5 #10-20, Cartagena", "Calle 10 #5-20, Cartagena")
    assert not same_address("東京都港区六本木6-10-1 106-0032", "東京都港区六本木1-10-6 106-0032")
    assert same_address("Calle 5 #10-20, Cartagena", "Calle 5 No. 10 - 20, Cartagena")
    # numbers apart may come in another order: a postcode before or after the street
    assert same_address("Italielei 124 2000 Antwerpen", "2000 Antwerpen, Italielei 124")
    # a postcode with or without its space or dash (before: no match)
    assert same_address("10 Downing Street, London SW1A 2AA", "10 Downing Street, London SW1A2AA")
    assert same_address("Coolsingel 40, 3011 AB Rotterdam", "Coolsingel 40, 3011AB Rotterdam")
    assert same_address("Av. Paulista 1000, 01310-100 Sao Paulo", "Av. Paulista 1000 01310100 Sao Paulo")
    assert not same_address("Coolsingel 40, 3011 AB Rotterdam", "Coolsingel 40, 3011 AC Rotterdam")
    # a regression review: a US street's direction was read as a Dutch postcode's letters (a structured
    # DCSA address, street before its number, no longer matched), numbers were joined into others
    # ("12 34" as "123 4", "14.5" as "145"), and "N°" after a number was read as its letter
    assert same_address("1234 NW 79th Ave, Doral, FL 33166", "NW 79th Ave 1234 33166 Doral")
    assert not same_address("Calle 12 # 34-56, Bogota", "Calle 123 4-56 Bogota")
    assert not same_address("Carrera 7 # 71-21, Bogota", "Carrera 77 # 1-21, Bogota")
    assert not same_address("Flat 1, 23 High Street", "Flat 12, 3 High Street")
    assert not same_address("Autopista Medellin Km 14.5", "Autopista Medellin Km 145")
    assert same_address("Calle 5 # 10-20, Cali", "Calle 5 N° 10-20, Cali")
    assert same_address("東京都港区六本木6-10-1 106-0032", "東京都港区六本木6-10-1 1060032")
    # a postcode is joined from the end of its run, after the house number (a second regression review)
    assert same_address("Rua do Ouro 235, 1100-062 Lisboa", "Rua do Ouro 235, 1100062 Lisboa")
    assert same_address("8400 NW 25th St, Miami FL 33122-1234", "8400 NW 25th St, Miami FL 331221234")
    # a third: a postcode followed by a number, a repeated number (no address matched itself), a
    # British outward code ending in a digit
    assert same_address("Av. Paulista, CEP 01310-100, nº 1000", "Av. Paulista, CEP 01310100, nº 1000")
    for itself in ("Calle 26 # 13-26, Bogotá", "Marunouchi 2-7-2, 100-7090 Tokyo", "Ginza 1-2-1"):
        assert same_address(itself, itself), itself
    assert same_address("Piccadilly 1, Manchester M1 1AE", "Piccadilly 1, Manchester M11AE")
    assert not same_address("Calle 26 # 13-26, Bogotá", "Calle 13 # 26-26, Bogotá")
    # a fourth: repeats told apart both ways round, and an ordinal is no postcode's inward code
    for a, b in (("Calle 5 # 10-10, Bogotá", "Calle 10 # 5-10, Bogotá"), ("Calle 26 # 26-5", "Calle 26 # 5-26"),
                 ("Carrera 7 # 12-7, Medellín", "Carrera 12 # 7-7, Medellín"),
                 ("Unit 5, 4th Floor, 8 Queen St", "54th Floor, 8 Queen St"), ("12 3rd Avenue", "123rd Avenue"),
                 ("Apto 10, Calle 5 # 10-20, Bogotá", "Calle 10 # 5-20 Apto 10, Bogotá")):
        assert not same_address(a, b) and not same_address(b, a), (a, b)
    assert address_numbers("London SW1A 2AA") == address_numbers("London SW1A2AA") == "12"


@given(st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), st.integers(0, 10 ** 6))
def test_a_seal_is_in_a_range_exactly_when_its_number_is_between(low: int, span: int, n: int) -> None:
    assert seal_in_range(f"AB{n}", f"AB{low:07d}", f"AB{low + span:07d}") == (low <= n <= low + span)


@given(st.lists(st.sampled_from(["ECGYE", "PAONX", "BEANR", "NLRTM"]), max_size=6),
       st.lists(st.sampled_from(["ECGYE", "PAONX", "BEANR", "NLRTM"]), min_size=1, max_size=3))
def test_a_route_is_passed_when_it_is_a_subsequence(ports: list[str], route: list[str]) -> None:
    it = iter(ports)
    assert passes_route(ports, tuple(route)) == all(p in it for p in route)


def test_a_later_arrival_notice_s_parties_are_screened_with_the_bill_s() -> None:
    """A regression review: screening read an arrival notice's consignee while the exchange's
    matching read only the "to order" bill's parties, so a trip that matched a shared entry
    raised no alert. Both now read the bill's parties and a later notice's."""
    from scheldt.domain.trips import screened_parties
    from scheldt.risk.screening import WatchlistEntry, WatchlistIndex
    from scheldt.workflows.share import _hits

    at = datetime(2026, 11, 4, tzinfo=UTC)
    bill = TripDocument("BL-1", "TRD", at, to_order=True, parties=(TripParty("shipper", "Exportadora SA"),))
    notice = TripDocument("BL-1", "ARN", at.replace(day=19), parties=(
        TripParty("consignee", "Importer NV", address="Noorderlaan 14, 2030 Antwerpen"),))
    facts = TripFacts(TripKey("REVU1000094", "BL-1", "V1"), at.replace(day=21), (), (bill, notice))
    assert [p.name for p in screened_parties(facts.documents)] == ["Exportadora SA", "Importer NV"]
    assert [p.name for p in screened_parties((notice,))] == ["Importer NV"]  # a notice alone is the trip's document
    # of two notices alone, the latest speaks (a regression review screened the superseded one's consignee)
    first_notice = TripDocument("BL-1", "ARN", at.replace(day=10), parties=(TripParty("consignee", "Tornado Ltd"),))
    assert [p.name for p in screened_parties((first_notice, notice))] == ["Importer NV"]
    # a notice received before the bill, or before an amendment of it, still speaks (a regression
    # review's amended bill dropped the notice's notify party from screening)
    earlier = TripDocument("BL-1", "ARN", at.replace(day=1), parties=(TripParty("notify party", "Qorvex Holding BV"),))
    amended = TripDocument("BL-1", "TRD", at.replace(day=20), parties=bill.parties)
    assert [p.name for p in screened_parties((earlier, bill))] == ["Exportadora SA", "Qorvex Holding BV"]
    assert [p.name for p in screened_parties((bill, notice, amended))] == ["Exportadora SA", "Importer NV"]
    # one party on both, with and without an address, is screened once, with its address
    named = TripDocument("BL-1", "TRD", at, parties=(TripParty("consignee", "Importer  nv"),))
    assert screened_parties((named, notice)) == notice.parties
    hits = _hits(facts, [], WatchlistIndex([WatchlistEntry("shared", "e1", "Importer NV")]))
    assert [(entry, why) for entry, why, _ in hits] == [
        ("e1", "the consignee Importer NV matches Importer NV (score 100)")]
    assert match(facts, "address", address="Noorderlaan 14, 2030 Antwerpen") is not None
