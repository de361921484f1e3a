"""Units of mass and temperature as shipping messages code them, converted to kg and °C.

Codes are UN/ECE Recommendation 20 (KGM kilogram, LBR pound, TNE tonne; CEL degree Celsius,
FAH degree Fahrenheit), which both UN/EDIFACT (MEA, TMP) and DCSA (weight and temperature
units) use. A unit Scheldt does not know is never guessed: the value is left out and flagged.
"""

from __future__ import annotations

import math

from scheldt.domain.declarations import Flag

#: kg per unit (UN/ECE Rec. 20); LBS is not a Rec. 20 code but senders use it for pounds.
KG_PER_UNIT = {"KGM": 1.0, "KG": 1.0, "KGS": 1.0, "LBR": 0.45359237, "LBS": 0.45359237, "TNE": 1000.0}
#: Heaviest plausible container gross mass, kg: ISO 668 allows 30,480 kg for most boxes and
#: some 45' high cubes are rated 34,000 kg; anything above 60 t is a broken field.
MAX_CONTAINER_KG = 60_000.0
#: Coldest and warmest plausible container temperatures, °C (deep-frozen reefers run at -60 °C).
TEMPERATURE_RANGE_C = (-90.0, 90.0)


def mass_kg(value: object, unit: str, field: str,
            limit_kg: float = MAX_CONTAINER_KG) -> tuple[float | None, Flag | None]:
    """``value`` in ``unit`` as kg rounded to grams, or (None, flag) when the unit is unknown
    or the mass is not a number, not above 0 or above ``limit_kg`` (a container's mass:
    :data:`MAX_CONTAINER_KG`; the goods of a consignment may fill several: a multiple of it, so
    named in the flag). An empty ``unit`` is taken as kg (DCSA's default). Never raises."""
    code = (unit or "KGM").strip().upper()
    try:
        if isinstance(value, bool):  # float(True) is 1.0: an attack review's VGM of true was 1 kg
            raise TypeError
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, Flag(field, "unreadable-mass", f"{field} {str(value)[:40]!r} is not a number; mass not used")
    if code not in KG_PER_UNIT:
        return None, Flag(field, "unknown-unit", f"{field} {number:g} in unit {code[:10]!r}, which is not kg, "
                                                  "pounds or tonnes; mass not used")
    kg = round(number * KG_PER_UNIT[code], 3)
    if not math.isfinite(kg) or kg <= 0 or kg > limit_kg:
        boxes = limit_kg / MAX_CONTAINER_KG
        what = ("a container's mass" if boxes <= 1 else f"the mass of goods in {boxes:.0f} containers"
                if boxes.is_integer() else "a plausible mass")
        return None, Flag(field, "implausible-mass", f"{field} {number:g} {code} is not {what} "
                                                     f"(above 0, at most {limit_kg:,.0f} kg); not used")
    return kg, None


def celsius(value: object, unit: str, field: str) -> tuple[float | None, Flag | None]:
    """``value`` in ``unit`` (CEL, FAH; empty: CEL) as °C rounded to 3 decimals, or (None, flag)
    when the unit is unknown or the temperature is outside :data:`TEMPERATURE_RANGE_C`. An
    empty ``value`` is (None, None). Never raises."""
    if value is None or value == "":
        return None, None
    code = (unit or "CEL").strip().upper()
    try:
        if isinstance(value, bool):  # float(True) is 1.0
            raise TypeError
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None, Flag(field, "unreadable-temperature", f"{field} {str(value)[:40]!r} is not a number; not used")
    if code not in ("CEL", "FAH"):
        return None, Flag(field, "unknown-unit", f"{field} {number:g} in unit {code[:10]!r}, which is neither "
                                                  "CEL nor FAH; not used")
    c = round(number if code == "CEL" else (number - 32) * 5 / 9, 3)
    low, high = TEMPERATURE_RANGE_C
    if not math.isfinite(c) or not low <= c <= high:
        return None, Flag(field, "implausible-temperature", f"{field} {number:g} {code} is not a container "
                                                            f"temperature ({low:g} to {high:g} °C); not used")
    return c, None
