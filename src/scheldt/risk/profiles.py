"""Risk profiles: which indicators count, how much, with which lists (pure).

A profile is a versioned YAML document written and owned by a targeting unit::

    name: antwerp-narcotics
    version: 3
    owner: Targeting cell, Antwerp
    effective_from: 2026-01-01
    lists:
      high_risk_ports:
        - {code: ECGYE, name: Guayaquil, since: 2024-01-01, grade: 0.6}
      cover_loads:
        - {prefix: "0803", name: bananas}
    indicators:
      high_risk_port_of_loading: {weight: 30}
      quick_pickup: {weight: 15, params: {max_hours: 4}}

A trip's profile points are the sum over fired indicators of weight × strength, capped at
``max_points``; reasons are ordered by points, largest first. Loading checks every field and
says where a problem is (unknown indicator or parameter, weight outside (0, 100], a code listed
twice with overlapping dates, an empty validity period): :class:`ProfileError`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from scheldt import reference
from scheldt.domain.trips import TripFacts
from scheldt.errors import InputError
from scheldt.risk.indicators import INDICATORS, Check, Context, CoverLoad, Hit, ListedPort
from scheldt.risk.screening import DEFAULT_THRESHOLD as SCREENING_THRESHOLD
from scheldt.yaml_text import TAG_FAILURES


class ProfileError(InputError):
    """A risk profile that cannot be used; ``where`` is file and field path."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _not_yes_or_no(value: Any) -> Any:
    """Refuse a YAML boolean where a number belongs: ``weight: yes`` was taken as 1 (review)."""
    if isinstance(value, bool):
        raise ValueError(f"a number is needed here, not {str(value).lower()} (YAML reads yes/no/on/off as true/false)")
    return value


def _not_a_number(value: Any) -> Any:
    """Refuse a number where a date belongs: ``effective_from: 0`` was read as 1970-01-01
    (regression review); YAML reads 2026-01-01 as a date and "2026-01-01" as text."""
    if isinstance(value, int | float):
        raise ValueError(f"a date like 2026-01-31 is needed here, not the number {value!r}")
    return value


#: A date written as a date (YAML's 2026-01-31, or that text), never a number of days or seconds.
Day = Annotated[date, BeforeValidator(_not_a_number)]


class PortEntry(_Strict):
    code: str = Field(pattern=r"^[A-Z]{2}([A-Z2-9]{3})?$", description="UN/LOCODE, or a country code for all its ports")
    name: str
    since: Day
    until: Day | None = None
    grade: Annotated[float, BeforeValidator(_not_yes_or_no)] = Field(
        default=1.0, gt=0, le=1, allow_inf_nan=False,
        description="strength of a loading at this port, (0, 1]; 1 when not given")

    @model_validator(mode="after")
    def _period(self) -> PortEntry:
        if self.until is not None and self.until <= self.since:
            raise ValueError(f"{self.code}: until {self.until} is not after since {self.since}")
        return self


class CoverLoadEntry(_Strict):
    prefix: str = Field(pattern=r"^[0-9]{2,6}$", description="HS code prefix, 2 to 6 digits")
    name: str

    @field_validator("prefix", mode="before")
    @classmethod
    def _prefix_text(cls, v: Any) -> Any:
        """An unquoted prefix is a number to YAML, and 0303 an octal one (195): a targeting review
        got "Input should be a valid string" with no hint."""
        if isinstance(v, int | float) and not isinstance(v, bool):
            raise ValueError(f"write the HS prefix in quotes, e.g. '0303': YAML read it as the number {v!r} "
                             "(a leading 0 even makes it octal)")
        return v


class Lists(_Strict):
    high_risk_ports: list[PortEntry] = []
    cover_loads: list[CoverLoadEntry] = []

    @field_validator("high_risk_ports")
    @classmethod
    def _no_overlap(cls, entries: list[PortEntry]) -> list[PortEntry]:
        by_code: dict[str, list[PortEntry]] = {}
        for e in entries:
            by_code.setdefault(e.code, []).append(e)
        for code, same in by_code.items():
            same.sort(key=lambda e: e.since)
            for a, b in zip(same, same[1:]):
                if a.until is None or a.until > b.since:
                    at = sorted(next(i for i, e in enumerate(entries) if e is x) for x in (a, b))
                    raise ValueError(f"{code} is listed twice with overlapping dates "
                                     f"({a.since}..{a.until or 'open'} and {b.since}..{b.until or 'open'}), "
                                     f"entries {at[0]} and {at[1]}")
        return entries


#: A parameter value: finite, not negative, at most a million (days, hours, kg, knots, shares).
ParamValue = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False), BeforeValidator(_not_yes_or_no)]
#: Parameters an indicator divides by (its strength grows with the measure over them): 0 is refused.
POSITIVE_PARAMS = frozenset({"min_gap_hours", "min_hours"})
#: Parameters with a narrower range than :data:`ParamValue`: shares (0-1) and match scores
#: (0-100). Beyond it a share of 5 was silently taken as 1, and a min_score of 150 or a
#: min_share of 2 made the indicator unable to fire.
BOUNDED_PARAMS = {"min_share": (1.0, "a share: 0.05 is 5 %"), "perishable_strength": (1.0, "a strength: 1 is full"),
                  "min_score": (100.0, "a match score out of 100"),
                  # a window in days reaches back before the year 1 from a million days: every
                  # scoring with it failed, ingest re-scoring included (a profile review)
                  "window_days": (3650.0, "a number of days before arrival (3,650: ten years)"),
                  "first_seen_days": (3650.0, "a number of days (3,650: ten years)")}


class IndicatorSetting(_Strict):
    weight: Annotated[float, BeforeValidator(_not_yes_or_no)] = Field(
        gt=0, le=100, allow_inf_nan=False, description="points when the indicator fires at full strength")
    params: dict[str, ParamValue] = {}

    @field_validator("params")
    @classmethod
    def _positive(cls, params: dict[str, float]) -> dict[str, float]:
        for key in sorted(POSITIVE_PARAMS & set(params)):
            if params[key] <= 0:  # a review's min_gap_hours: 0 validated, then every scoring divided by it
                raise ValueError(f"{key} must be more than 0 (the indicator's strength is measured in it)")
        for key in sorted(BOUNDED_PARAMS.keys() & set(params)):
            top, what = BOUNDED_PARAMS[key]
            if params[key] > top:
                raise ValueError(f"{key} is {what}, at most {top:g}; {params[key]:g} is out of range")
        return params


class RiskProfile(_Strict):
    """A validated risk profile (see the module docstring for the YAML form)."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    version: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    owner: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$")
    description: str = ""
    effective_from: Day
    effective_to: Day | None = None
    max_points: Annotated[float, BeforeValidator(_not_yes_or_no)] = Field(default=100, gt=0, allow_inf_nan=False)
    lists: Lists = Lists()
    indicators: dict[str, IndicatorSetting]
    _contexts: dict[str, Context] = PrivateAttr(default_factory=dict)
    _checks: tuple[tuple[str, Check, Context], ...] = PrivateAttr(default=())

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        if isinstance(v, bool) or isinstance(v, float):
            raise ValueError(f"write the version as text in quotes (YAML reads {v!r} as a {type(v).__name__})")
        return str(v) if isinstance(v, int) else v

    @field_validator("indicators")
    @classmethod
    def _known(cls, indicators: dict[str, IndicatorSetting]) -> dict[str, IndicatorSetting]:
        if not indicators:
            raise ValueError("name at least one indicator")
        for name, setting in indicators.items():
            if name not in INDICATORS:
                raise ValueError(f"{name}: unknown indicator; known: {', '.join(sorted(INDICATORS))}")
            unknown = sorted(set(setting.params) - set(INDICATORS[name].params))
            if unknown:
                known = ", ".join(sorted(INDICATORS[name].params)) or "none"
                raise ValueError(f"{name}.params: unknown parameter {unknown[0]}; known: {known}")
        return indicators

    @model_validator(mode="after")
    def _period(self) -> RiskProfile:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is not after effective_from {self.effective_from}")
        return self

    def in_force(self, day: date) -> bool:
        """True when ``day`` is within the effective dates (``effective_to`` exclusive)."""
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)

    @property
    def label(self) -> str:
        """``name@version``, as assessments record it."""
        return f"{self.name}@{self.version}"

    def context(self, name: str) -> Context:
        """The evaluation context of indicator ``name``: its parameters (the profile's over the
        defaults; defaults alone for an indicator the profile does not use) and the lists.
        Built once per profile and indicator."""
        if name not in self._contexts:
            params = {**INDICATORS[name].params, **(self.indicators[name].params if name in self.indicators else {})}
            ports = tuple(ListedPort(p.code, p.name, p.since, p.until, p.grade) for p in self.lists.high_risk_ports)
            covers = tuple(CoverLoad(c.prefix, c.name) for c in self.lists.cover_loads)
            self._contexts[name] = Context(params, ports, covers)
        return self._contexts[name]

    def checks(self) -> tuple[tuple[str, Check, Context], ...]:
        """(name, check, context) of each indicator of the profile, in profile order; built once
        (scoring runs them for every trip, and each read of a pydantic private attribute is slow)."""
        checks = self._checks
        if not checks:
            checks = tuple((n, INDICATORS[n].check, self.context(n)) for n in self.indicators)
            self._checks = checks
        return checks


class _BadDate(yaml.YAMLError):
    """A YAML timestamp that is no date (``2024-02-30``), where it is written."""

    def __init__(self, mark: yaml.Mark, why: str) -> None:
        super().__init__(why)
        self.mark, self.why = mark, why


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML would keep the last)
    and saying where a date is impossible."""

    def construct_checked_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A YAML timestamp, or :class:`_BadDate` at its place (a docs review's 2024-02-30 was
        reported without the line or field every other profile error names)."""
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError as exc:
            raise _BadDate(node.start_mark, f"{node.value!r} is not a valid date: {exc}") from None
        except AttributeError:  # !!timestamp on text that is no date at all
            raise _BadDate(node.start_mark, f"{node.value!r} is not a date (YYYY-MM-DD)") from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """Refuse an alias (``*name``): a profile needs none, and nested aliases make a short
        text expand into a structure too large to validate (a "billion laughs")."""
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "an alias (*name) is not allowed in a profile: write the "
                                              "value out", self.peek_event().start_mark)
        return super().compose_node(parent, index)  # type: ignore[no-any-return]


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _UniqueKeyLoader.construct_checked_timestamp)


#: Largest profile text read, in bytes (the built-in profile is about 6 kB).
#: The largest profile text, in UTF-8 bytes, for the command line and the API alike (a review's
#: 685 KB profile validated by the command line could not be proposed back through the API).
MAX_PROFILE_BYTES = 256 * 1024


def _lines(node: yaml.Node, path: tuple[str, ...] = (), into: dict[tuple[str, ...], int] | None = None
           ) -> dict[tuple[str, ...], int]:
    """The 1-based line of every key and list item of a composed YAML document, by path."""
    lines = {} if into is None else into
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*path, str(key.value))
            lines[here] = key.start_mark.line + 1
            _lines(value, here, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, str(i)), lines)
    return lines


def doubtful_ports(profile: RiskProfile) -> list[str]:
    """Warnings for the profile's high-risk port codes the shipped reference data does not know:
    a country code not in ISO 3166-1 (a version stored before new texts were refused for that),
    a UN/LOCODE whose country is unknown or that neither the
    shipped UN/LOCODE excerpt nor the port list names. Only warnings (the excerpt is partial): a
    targeting review's typo BRSZZ for Santos validated silently and would have stopped flagging
    Santos."""
    out = []
    for i, entry in enumerate(profile.lists.high_risk_ports):
        at, code = f"lists.high_risk_ports.{i}", entry.code
        if not reference.is_known_country(code[:2]):
            out.append(f"{at}: {code} ({entry.name}): {code[:2]} is no ISO 3166-1 country code")
        elif len(code) == 5 and not reference.port_name(code):
            out.append(f"{at}: {code} ({entry.name}) is in neither the shipped UN/LOCODE excerpt nor its port "
                       "list: check the code")
    return out + _ports_graded_below_their_country(profile.lists.high_risk_ports)


def _ports_graded_below_their_country(entries: Sequence[Any]) -> list[str]:
    """Warnings for a port's entry graded below an entry of its country in force at the same
    time: the port's own entry decides a loading there, so adding a port to stress it can lower
    it (a targeting review's CRMOB at 0.3 beside CR at 0.8 took a Moin box from 36 to 13.5 points
    without a word)."""
    out = []
    for i, port in enumerate(entries):
        for j, country in enumerate(entries):
            if (len(port.code) == 5 and country.code == port.code[:2] and port.grade < country.grade
                    and (port.until is None or port.until > country.since)
                    and (country.until is None or country.until > port.since)):
                out.append(f"lists.high_risk_ports.{i}: {port.code} ({port.name}) graded {port.grade:g} is below "
                           f"its country's entry {country.code} (lists.high_risk_ports.{j}, graded {country.grade:g}): "
                           f"while both are in force a loading at {port.code} counts at {port.grade:g}, the port's own "
                           "entry coming first")
    return out


def load_profile(text: str, where: str = "profile", *, stored: bool = False) -> RiskProfile:
    """Parse and validate a profile's YAML text. Raises :class:`ProfileError` naming ``where``,
    the line and the field at fault (``where line N: indicators.x.weight``). ``stored``: a text
    a store already holds, read again: the checks added since it was stored (:func:`_new_text`,
    the size of new texts) are not made, so a store keeps working with the versions it has; the
    last few such texts are remembered as read (a profile is frozen): scoring reads the live one
    for every batch, and parsing it was a tenth of a replay's time."""
    return _stored_profile(text, where) if stored else _parsed(text, where, stored=False)


@functools.lru_cache(maxsize=8)
def _stored_profile(text: str, where: str) -> RiskProfile:
    return _parsed(text, where, stored=True)


def _parsed(text: str, where: str, *, stored: bool) -> RiskProfile:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_PROFILE_BYTES and not stored:  # a stored one passed the rule of its day (1 M characters)
        raise ProfileError(where, f"{size:,} bytes: a profile is at most {MAX_PROFILE_BYTES:,} bytes")
    loader = _UniqueKeyLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except _BadDate as exc:
        line = exc.mark.line + 1
        field = next((".".join(p) for p, n in _lines(node).items() if n == line and p), "")
        raise ProfileError(f"{where} line {line}" + (f": {field}" if field else ""), exc.why) from exc
    except yaml.YAMLError as exc:
        raise ProfileError(where, f"not valid YAML: {exc}") from exc
    except RecursionError as exc:  # a review's 4 KB profile of 2,000 nested lists: a traceback, a 500 in the API
        raise ProfileError(where, "not valid YAML: nested too deeply") from exc
    except TAG_FAILURES as exc:  # an explicit tag YAML cannot build: !!int abc, !!bool maybe
        raise ProfileError(where, f"not valid YAML: a value its tag cannot make ({type(exc).__name__}: {exc})") from exc
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ProfileError(where, "a profile is a YAML mapping (name, version, owner, indicators...)")
    try:
        profile = RiskProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        why = first["msg"].removeprefix("Value error, ")
        loc = _indicator_loc(tuple(str(p) for p in first["loc"]), why)
        lines = _lines(node)
        line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
        place = f"{where} line {line}" if line else where
        raise ProfileError(f"{place}: {'.'.join(loc)}" if loc else place, why) from exc
    if not stored:
        _new_text(node, data, profile, where)
    return profile


def _new_text(node: yaml.Node, data: dict[Any, Any], profile: RiskProfile, where: str) -> None:
    """The checks of a new profile text, not of one a store already holds (``data``: the YAML
    as read; ``profile``: as validated): a version YAML reads as a number other than its text
    (``032`` is 26, ``0x21`` 33, ``1_0`` 10: a review's profile went live as @26, then clashed
    with another @26); ``max_points`` at most 100 as the profile reads it (scores are 0-100: a
    review's 400 scored a trip 400; ``"400"`` and ``1e3`` are strings to YAML); a high-risk
    port whose country is no ISO 3166-1 code (a targeting review's ZZZZZ validated and went live
    with a warning); a ``min_score`` below party screening's threshold (a version stored before this check keeps
    loading: a regression review's store stopped scoring). Raises ProfileError naming the line."""
    scalars = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    version = data.get("version")
    if type(version) is int and "version" in scalars and scalars["version"].value != str(version):
        raise ProfileError(f"{where} line {scalars['version'].start_mark.line + 1}: version",
                           f"write the version as text in quotes: YAML reads {scalars['version'].value} as the "
                           f"number {version}")
    if profile.max_points > 100 and "max_points" in scalars:
        raise ProfileError(f"{where} line {scalars['max_points'].start_mark.line + 1}: max_points",
                           f"{scalars['max_points'].value} is above 100: scores are 0-100, and without a live model "
                           "the score is the points")
    for i, entry in enumerate(profile.lists.high_risk_ports):
        if not reference.is_known_country(entry.code[:2]):  # the ISO 3166-1 list is whole: no typo to allow
            loc = ("lists", "high_risk_ports", str(i))
            lines = _lines(node)
            line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
            raise ProfileError(f"{where} line {line}: {'.'.join(loc)}" if line else f"{where}: {'.'.join(loc)}",
                               f"{entry.code} ({entry.name}): {entry.code[:2]} is no ISO 3166-1 country code, so "
                               "the entry would match no port")
    for name, setting in profile.indicators.items():
        low = setting.params.get("min_score", SCREENING_THRESHOLD)
        if low < SCREENING_THRESHOLD:  # a targeting review's 0.9 (for 90) acted as 85: +40 on near-miss names
            loc = ("indicators", name, "params")
            lines = _lines(node)
            line = next((lines[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in lines), None)
            raise ProfileError(f"{where} line {line}: {'.'.join(loc)}" if line else f"{where}: {'.'.join(loc)}",
                               f"min_score is a match score out of 100, from {SCREENING_THRESHOLD:g} (party screening "
                               f"keeps no match scoring less) to 100; {low:g} is out of range")


def _indicator_loc(loc: tuple[str, ...], why: str) -> tuple[str, ...]:
    """``loc`` made as deep as the check's message says (``name: unknown indicator``,
    ``name.params: unknown parameter p``; a port's overlapping ``entries i and j``: the later;
    the dates' check names ``effective_to``), so the line given is the entry's: a targeting
    review was sent to the line of ``indicators:``, nine lines above the misspelt name, and a
    profile review to the list, not the entries, or to no line at all."""
    if loc == ("lists", "high_risk_ports") and (entries := re.search(r"entries \d+ and (\d+)$", why)):
        return (*loc, entries[1])
    if not loc and why.startswith("effective_to "):
        return ("effective_to",)
    found = re.match(r"([^\s.:]+)(?:\.params: unknown parameter (\S+?);|: unknown indicator)", why)
    if loc != ("indicators",) or found is None:
        return loc
    return ("indicators", found[1], "params", found[2]) if found[2] else ("indicators", found[1])


def profile_digest(text: str) -> str:
    """SHA-256 of a profile's YAML text (two versions with one label must be the same text)."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason of a score: the indicator, its sentence, the evidence and the points it adds."""

    indicator: str
    sentence: str
    evidence: str
    points: float


@dataclass(frozen=True, slots=True)
class ProfileScore:
    """Profile points of one trip (0..max_points) and the reasons, largest first."""

    points: float
    reasons: tuple[Reason, ...]


def indicator_hits(profile: RiskProfile, trip: TripFacts) -> dict[str, Hit]:
    """Every indicator of ``profile`` that fires on ``trip``, by name."""
    hits = {}
    for name, check, context in profile.checks():
        hit = check(trip, context)
        if hit is not None and hit.strength > 0:
            hits[name] = hit
    return hits


def evaluate(profile: RiskProfile, trip: TripFacts, hits: dict[str, Hit] | None = None) -> ProfileScore:
    """Run every indicator of ``profile`` on ``trip`` (or take ``hits`` already computed);
    points are weight × strength, summed and capped at ``max_points``. Deterministic: the same
    facts give the same score and reasons."""
    hits = indicator_hits(profile, trip) if hits is None else hits
    reasons = [Reason(name, INDICATORS[name].sentence, hit.evidence, round(profile.indicators[name].weight * hit.strength, 2))
               for name, hit in hits.items()]
    reasons.sort(key=lambda r: (-r.points, r.indicator))
    return ProfileScore(round(min(profile.max_points, sum(r.points for r in reasons)), 2), tuple(reasons))


def builtin_profile_text(name: str = "antwerp-narcotics") -> str:
    """The YAML text of a profile shipped with Scheldt. Raises ProfileError for an unknown name."""
    from importlib.resources import files

    entry = files("scheldt.risk").joinpath("profiles_builtin", f"{name}.yaml")
    if not entry.is_file():
        raise ProfileError(name, "no built-in profile of that name; built in: antwerp-narcotics")
    return entry.read_text("utf-8")
