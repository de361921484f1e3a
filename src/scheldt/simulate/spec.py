"""The numbers of the simulation: traffic mix, benign base rates, planted methods (pure data).

Shares are of inbound container trips. Where the domain brief gives a figure it is cited;
the rest are stated assumptions, chosen so that every indicator also fires on benign traffic
(except gate_out_without_release and watchlist_match, whose feeds the simulator does not write:
see :mod:`scheldt.simulate`).
"""

from __future__ import annotations

#: Inbound containers a day at Antwerp-Bruges (brief 3.1, derived: ~11,500/day).
CONTAINERS_PER_DAY = 11_500
#: Containers per vessel call (assumption: large deep-sea calls discharge a few hundred each).
BOXES_PER_CALL = 400
#: Share of trips carrying a planted case (assumption; ~130 seizures/yr at ~0.4 % of 35,000
#: controls, brief 3.3, is a lower bound on what is smuggled).
PLANTED_SHARE = 0.005

#: Origin ports (UN/LOCODE) with their share of inbound trips. South America ~8 % (brief 3.1:
#: ~900/day of ~11,500); the rest are assumptions by trade lane.
ORIGINS: dict[str, float] = {
    "CNSHA": 0.12, "CNNGB": 0.08, "SGSIN": 0.07, "KRPUS": 0.05, "INNSA": 0.06, "AEJEA": 0.06,
    "USNYC": 0.05, "USSAV": 0.05, "ESALG": 0.04, "MAPTM": 0.04, "NGAPP": 0.03, "CIABJ": 0.03,
    "GBFXT": 0.05, "SEGOT": 0.04, "FIHEL": 0.03, "TRIST": 0.04, "MXVER": 0.02, "JMKIN": 0.01,
    "DOCAU": 0.01, "ZADUR": 0.04,
    "ECGYE": 0.022, "BRSSZ": 0.016, "COCTG": 0.012, "PABLB": 0.008, "CRMOB": 0.008, "PECLL": 0.006,
    "UYMVD": 0.004, "BRPNG": 0.004,
}
HIGH_RISK_ORIGINS = ("ECGYE", "BRSSZ", "COCTG", "PABLB", "CRMOB", "PECLL", "UYMVD", "BRPNG", "DOCAU")
#: Transshipment hubs: listed (Panama, Cartagena) and not (Algeciras, Tanger Med).
LISTED_HUBS = ("PABLB", "PAMIT", "COCTG")
OTHER_HUBS = ("ESALG", "MAPTM")
DESTINATION = "BEANR"
# Simulated carriers (liner codes on transport documents) and terminals at the destination
# (facility codes on events there): made-up codes, so no real company is named in simulated
# traffic. The demo's carrier and terminal organisations own these codes.
CARRIERS = ("SIMA", "SIMB", "SIMC", "SIMD")
TERMINALS = ("SIMT1", "SIMT2", "SIMT3")

#: Commodities (HS 6, description, reefer?) by kind of origin.
COVER_LOADS = [("080390", "Fresh bananas", True), ("080430", "Fresh pineapples", True), ("080440", "Fresh avocados", True),
               ("090111", "Coffee, not roasted", False), ("170114", "Cane sugar", False), ("030389", "Frozen fish", True),
               ("440799", "Sawn wood", False), ("310210", "Urea fertiliser", False), ("480511", "Paper reels", False)]
GENERAL = [("940360", "Wooden furniture", False), ("847989", "Machinery parts", False), ("950300", "Toys", False),
           ("620342", "Cotton trousers", False), ("851712", "Mobile phones", False), ("870899", "Vehicle parts", False),
           ("290511", "Methanol", False), ("720851", "Steel plates", False), ("220421", "Wine in bottles", False),
           ("180100", "Cocoa beans", False), ("030617", "Frozen shrimp", True), ("020714", "Frozen chicken cuts", True)]
#: Share of trips from high-risk origins carrying a cover-load commodity (bananas, fruit, coffee...).
COVER_SHARE_RISK_ORIGIN = 0.60
COVER_SHARE_OTHER = 0.06

#: Benign base rates per trip (assumptions unless cited), in benign and planted trips alike: a
#: load rides in an ordinary shipment (a subtle case shows no strong one; see traffic._incidental).
BENIGN = {
    "new_consignee": 0.04,         # first-time importers
    "to_order": 0.03,              # "to order" bills without a notify party
    "reseal": 0.01,                # seal replaced after an inspection at origin
    "mass_gap": 0.10,              # VGM off by >5 % (brief row 10: misdeclaration widespread)
    "late_party_change": 0.005,    # consignee amended after departure (sold in transit)
    "cash_freight": 0.003,
    "quick_pickup_perishable": 0.15,
    "quick_pickup_other": 0.03,
    "terminal_moves": 0.02,
    "ais_gap": 0.08,               # per vessel call (brief row 14: gaps mostly innocent)
    "listed_hub_transshipment": 0.03,
    "empty_without_booking": 0.002,
}
#: Benign base rates added later, drawn from a separate random stream (see
#: :func:`scheldt.simulate.traffic.simulate`) so the traffic drawn from the rates above stays
#: the same. All assumptions.
BENIGN_EXTRA = {
    # dry goods in a reefer box, per trip of goods that need no cooling: non-operating reefers
    # carrying dry cargo on lanes where reefers flow back empty (e.g. Asia to Europe), repositioning
    "reefer_dry_goods": 0.02,
    # per vessel call: slow or drifting positions (≤ 2.5 kn, 8-36 h, starting 1-4 days before
    # arrival) while waiting for a berth window or slowing down to arrive just in time
    "loitering": 0.06,
    # per trip from a high-risk origin: relayed at a listed hub (Pacific-coast fruit relayed at
    # Balboa or Cartagena); trips from other origins use "listed_hub_transshipment" above
    "risk_origin_listed_hub": 0.10,
}
#: Loitering of a benign call (BENIGN_EXTRA["loitering"]): hours before arrival it starts, its
#: length in hours, and the top speed while loitering.
LOITER_STARTS_HOURS = (24.0, 96.0)
LOITER_HOURS = (8.0, 36.0)
LOITER_MAX_KNOTS = 2.5

#: Tare (kg) of each ISO 6346 size-type the simulator uses, as its VGM declarations give it:
#: typical published tares of such boxes (assumption).
TARE_KG = {"22G1": 2_230.0, "42G1": 3_750.0, "45G1": 3_900.0, "22R1": 3_000.0, "45R1": 4_600.0}

#: Planted methods: share of planted cases, and the chance each gives each indicator.
METHODS: dict[str, tuple[float, dict[str, float]]] = {
    "rip-on/rip-off": (0.40, {"risk_origin": 0.8, "listed_hub": 0.2, "reseal": 0.55, "quick_pickup": 0.45,
                              "terminal_moves": 0.35, "reefer": 0.4, "ais_gap": 0.2}),
    "cover load, front company": (0.35, {"risk_origin": 0.85, "cover": 0.9, "new_consignee": 0.7, "to_order": 0.3,
                                         "cash_freight": 0.15, "late_party_change": 0.2, "mass_gap": 0.3}),
    "release code misuse": (0.15, {"risk_origin": 0.6, "quick_pickup": 0.85, "terminal_moves": 0.4}),
    "Trojan empty": (0.10, {"empty_without_booking": 1.0}),
}
#: Indicators that are "strong": a subtle case shows none of them.
STRONG = ("reseal", "late_party_change", "cash_freight", "empty_without_booking")
#: Share of planted cases made subtle (no strong indicator, only combinations; issue 4 asks >= 30 %).
SUBTLE_SHARE = 0.35

#: AIS sampling of arriving vessels: one position every this many hours, over the last days.
AIS_INTERVAL_HOURS = 2.0
AIS_DAYS = 5
#: Share of all trips inspected in the simulated history (risk-based + random), and of those random.
INSPECTED_SHARE = 0.08
RANDOM_INSPECTION_SHARE = 0.25
#: Chance that inspecting a planted container finds the drugs.
DETECTION = 0.85
