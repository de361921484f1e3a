"""Reasons for a score, worded for a targeting officer.

A model's per-feature contributions (TreeSHAP) are summed per *reason group* (all features
about one fact: e.g. the three past-outcome features of "same goods at the same value"),
and each group with a positive sum becomes one :class:`Reason` whose text states the facts
behind it, e.g. "HS 610910 from China (CN): 48% of 25 past inspections found irregularities".
Reasons are ordered by contribution, largest first. Never a raw feature name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from scheldt import reference
from scheldt.risk import features

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason for a score: a stable ``code``, the officer's ``text``, and ``weight``
    (the group's contribution to the log-odds of the score)."""

    code: str
    text: str
    weight: float


def _country(code: str) -> str:
    name = reference.country_names().get(code)
    return f"{name} ({code})" if name else code


def _hs(code: str) -> str:
    desc = reference.hs_descriptions().get(code[:6], "")
    if len(desc) > 60:
        desc = desc[:57].rstrip() + "..."
    return f"HS {code[:6]}" + (f" ({desc})" if desc else "")


def _num(x: Any, fmt: str = ",.0f") -> str:
    return "unknown" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _amount(x: Any) -> str:
    """A declared amount as declared: whole numbers without decimals, others with two (a
    declarations review read "value 4" for 3.75 in a reason about that exact value)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "unknown"
    return format(x, ",.0f") if float(x).is_integer() else format(x, ",.2f")


def _said(value: Any) -> str:
    """A declared code, or "(none declared)" for a field the declaration left empty (a
    declarations review read "Duty payment type " and "under tax type :" as facts declared)."""
    return str(value) if value not in (None, "") else "(none declared)"


def _per_kg(row: Row) -> str:
    unit = row.get("unit_value")
    if unit is None or (isinstance(unit, float) and math.isnan(unit)):
        return "no net mass declared"
    return f"{unit:,.2f} per kg"


_HISTORY_SUBJECT: dict[str, Callable[[Row], str]] = {
    "template": lambda r: f"Same goods at the same declared value ({_hs(r['hs_code'])}, value {_amount(r['value'])})",
    "goods": lambda r: f"{_hs(r['hs_code'])} at {_per_kg(r)}",
    "goods_origin": lambda r: f"{_hs(r['hs_code'])} at {_per_kg(r)} from {_country(r['origin_country'])}",
    "hs6": lambda r: _hs(r["hs_code"]),
    "hs6_origin": lambda r: f"HS {r['hs_code'][:6]} from {_country(r['origin_country'])}",
    "hs6_tax_type": lambda r: f"HS {r['hs_code'][:6]} under tax type {_said(r['tax_type'])}",
    "importer": lambda r: f"Importer {r['importer_id'] or '(none)'}",
    "declarant": lambda r: f"Declarant {r['declarant_id'] or '(none)'}",
    "seller": lambda r: f"Seller {r['seller_id'] or '(none)'}",
}

_DECLARED: dict[str, tuple[str, Callable[[Row], str]]] = {
    "hs6": ("declared.hs_code", lambda r: f"Goods declared as {_hs(r['hs_code'])}"),
    "hs4": ("declared.hs_code", lambda r: ""),
    "hs2": ("declared.hs_code", lambda r: ""),
    "origin_country": ("declared.origin", lambda r: f"Origin declared as {_country(r['origin_country'])}"),
    "departure_country": ("declared.departure", lambda r: f"Shipped from {_country(r['departure_country'])}"),
    "tax_rate_pct": ("declared.tax_rate", lambda r: f"Duty rate {_num(r['tax_rate_pct'], 'g')}%"),
    "tax_type": ("declared.tax_type", lambda r: f"Tax type {_said(r['tax_type'])} (duty rate basis claimed)"),
    "net_mass_kg": ("declared.mass", lambda r: f"Net mass {_num(r['net_mass_kg'], ',.1f')} kg"),
    "value": ("declared.value", lambda r: f"Declared value {_amount(r['value'])} ({_per_kg(r)})"),
    "unit_value": ("declared.value", lambda r: ""),
    "office_code": ("declared.office", lambda r: f"Filed at customs office {_said(r['office_code'])}"),
    "process_type": ("declared.process_type", lambda r: f"Declaration process type {_said(r['process_type'])}"),
    "import_type": ("declared.import_type", lambda r: f"Import type {_said(r['import_type'])}"),
    "import_use": ("declared.import_use", lambda r: f"Import use {_said(r['import_use'])}"),
    "payment_type": ("declared.payment_type", lambda r: f"Duty payment type {_said(r['payment_type'])}"),
    "transport_mode": ("declared.transport_mode", lambda r: f"Mode of transport {_said(r['transport_mode'])}"),
    "origin_indicator": ("declared.origin_indicator", lambda r: f"Origin marking {_said(r['origin_indicator'])}"),
}


def reason_group(feature: str) -> str:
    """The reason code a feature's contribution is credited to."""
    for key in features.HISTORY_KEYS:
        if feature.startswith(key.name + "_") and feature.removeprefix(key.name + "_") in features.HISTORY_STATS:
            return f"history.{key.name}"
    return _DECLARED[feature][0]


GROUPS: tuple[str, ...] = tuple(dict.fromkeys(reason_group(f) for f in features.FEATURE_NAMES))
_GROUP_INDEX = np.array([GROUPS.index(reason_group(f)) for f in features.FEATURE_NAMES])


def group_contributions(contributions: np.ndarray) -> np.ndarray:
    """Sum per-feature contributions (n × (features + 1)) into reason groups (n × groups)."""
    out = np.zeros((contributions.shape[0], len(GROUPS)))
    np.add.at(out.T, _GROUP_INDEX, contributions[:, : len(features.FEATURE_NAMES)].T)
    return out


def _history_text(key: str, row: Row, feats: Row, target: str) -> str:
    subject = _HISTORY_SUBJECT[key](row)
    n = int(feats[f"{key}_n"] or 0)
    finding = "critical fraud" if target == "critical" else "irregularities"
    if n == 0:
        return f"{subject}: never inspected before"
    rate = feats[f"{key}_{'critical' if target == 'critical' else 'fraud'}_rate"] or 0.0
    k = round(rate * n)
    if n >= 20:
        return f"{subject}: {rate:.0%} of {n} past inspections found {finding}"
    if k == 0:  # a clean but thin record: what raises the score is how little it is (a review read
        # "0 of 1 past inspection found irregularities" as a reason to inspect and was puzzled)
        return f"{subject}: only {n} past inspection{'s' if n > 1 else ''}, none found {finding}: too little " \
               "history to count in its favour"
    return f"{subject}: {k} of {n} past inspection{'s' if n > 1 else ''} found {finding}"


def _text(group: str, row: Row, feats: Row, target: str) -> str:
    if group.startswith("history."):
        return _history_text(group.removeprefix("history."), row, feats, target)
    for feature, (code, render) in _DECLARED.items():
        if code == group and (text := render(row)):
            return text
    raise KeyError(group)


def evidence(group: str, feats: Row, target: str) -> tuple[int, int] | None:
    """The past inspections behind a history group: (inspections, positives); None otherwise."""
    if not group.startswith("history."):
        return None
    key = group.removeprefix("history.")
    n = int(feats[f"{key}_n"] or 0)
    rate = feats[f"{key}_{'critical' if target == 'critical' else 'fraud'}_rate"] or 0.0
    return n, round(rate * n)


def explain_row(
    row: Row, feats: Row, grouped: np.ndarray, target: str, max_reasons: int = 5
) -> list[Reason]:
    """Reasons for one row: positive groups by weight, largest first, at most ``max_reasons``.

    ``row`` holds the declaration's fields (plus ``unit_value``), ``feats`` its feature values by
    name, ``grouped`` its contributions per :data:`GROUPS` (from :func:`group_contributions`).
    A history group resting on the same past inspections as a reason already given (same count,
    same findings: e.g. the one earlier inspection of these goods, seen through goods, origin
    and HS code alike) is not repeated.
    """
    order = np.argsort(-grouped, kind="stable")
    reasons: list[Reason] = []
    seen: set[tuple[int, int]] = set()
    for i in order:
        if grouped[i] <= 0 or len(reasons) == max_reasons:
            break
        proof = evidence(GROUPS[i], feats, target)
        if proof is not None and proof[0] > 0:
            if proof in seen:
                continue
            seen.add(proof)
        reasons.append(Reason(GROUPS[i], _text(GROUPS[i], row, feats, target), float(grouped[i])))
    return reasons


def explain(
    contributions: np.ndarray,
    declarations: list[Row],
    feature_rows: list[Row],
    target: str,
    max_reasons: int = 5,
) -> list[list[Reason]]:
    """Reasons for many rows at once.

    ``contributions`` from ``RiskModel.contributions`` (n × (features + 1)); ``declarations``
    the n declaration rows (dicts of the declarations frame); ``feature_rows`` their encoded
    features by name. Only call this for rows an officer will look at: TreeSHAP costs far more
    than predicting.
    """
    grouped = group_contributions(contributions)
    out = []
    for i, (row, feats) in enumerate(zip(declarations, feature_rows, strict=True)):
        row = {**row, "unit_value": feats.get("unit_value")}
        out.append(explain_row(row, feats, grouped[i], target, max_reasons))
    return out
