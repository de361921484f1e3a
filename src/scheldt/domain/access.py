"""Who may do what, and whose data is whose (pure: no web or database code).

Roles are the jobs people do at a port (targeting officer, scanner operator, search team,
analyst, liaison officer, carrier security, administrator). An organisation is an agency, a
shipping line (carrier) or a terminal; what is its own is defined by codes set on it:

* a carrier owns the container trips on its transport documents: the document's carrier code
  (SMDG liner code or SCAC, DCSA ``carrierCode``) is one of its ``carrier_codes``;
* a terminal owns the trips of the boxes it holds or last held on land (discharged there,
  gated in or out; not once it has loaded the box aboard): the event's facility code (SMDG
  terminal code, DCSA ``facilityCode``) is one of its ``terminal_codes``;
* an agency owns the trips built from facts it supplied (recorded as ``supplied_by``). Another
  agency's data reaches it only through sharing (the exchange issue), never through these rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from scheldt.errors import InputError


class Role(StrEnum):
    """A user's job; a user may hold several."""

    TARGETING_OFFICER = "targeting_officer"
    SCANNER_OPERATOR = "scanner_operator"
    SEARCH_TEAM = "search_team"
    ANALYST = "analyst"
    LIAISON_OFFICER = "liaison_officer"
    CARRIER_SECURITY = "carrier_security"
    ADMINISTRATOR = "administrator"


class OrgKind(StrEnum):
    """What an organisation is."""

    AGENCY = "agency"
    CARRIER = "carrier"
    TERMINAL = "terminal"


class Permission(StrEnum):
    """Something a request may do."""

    READ_TRIPS = "read_trips"
    READ_DASHBOARD = "read_dashboard"
    PLAN_SCANS = "plan_scans"
    RECORD_SCAN = "record_scan"
    RECORD_SEARCH = "record_search"
    HOLD = "hold"
    READ_PROFILES = "read_profiles"
    PROPOSE_PROFILES = "propose_profiles"
    ACTIVATE_PROFILES = "activate_profiles"
    RUN_JOBS = "run_jobs"
    MANAGE_USERS = "manage_users"
    MANAGE_ORGANISATIONS = "manage_organisations"
    READ_AUDIT = "read_audit"
    SHARE = "share"  # share alerts, seizure reports, watchlist entries and feedback with partner agencies
    MANAGE_SUBSCRIPTIONS = "manage_subscriptions"
    SUPPLY_DATA = "supply_data"  # send the organisation's own shipping data (DCSA, UN/EDIFACT) to the node


R, P = Role, Permission
_GRANTS: dict[Role, frozenset[Permission]] = {
    R.TARGETING_OFFICER: frozenset({P.READ_TRIPS, P.READ_DASHBOARD, P.PLAN_SCANS, P.HOLD, P.READ_PROFILES,
                                    P.PROPOSE_PROFILES, P.ACTIVATE_PROFILES, P.SHARE}),
    R.SCANNER_OPERATOR: frozenset({P.READ_TRIPS, P.RECORD_SCAN}),
    R.SEARCH_TEAM: frozenset({P.READ_TRIPS, P.RECORD_SEARCH}),
    R.ANALYST: frozenset({P.READ_TRIPS, P.READ_DASHBOARD, P.READ_PROFILES, P.PROPOSE_PROFILES, P.RUN_JOBS, P.SHARE}),
    R.LIAISON_OFFICER: frozenset({P.READ_TRIPS, P.READ_DASHBOARD, P.READ_PROFILES, P.SHARE}),
    R.CARRIER_SECURITY: frozenset({P.READ_TRIPS, P.MANAGE_SUBSCRIPTIONS, P.SUPPLY_DATA}),
    R.ADMINISTRATOR: frozenset({P.READ_TRIPS, P.READ_DASHBOARD, P.READ_PROFILES, P.ACTIVATE_PROFILES, P.RUN_JOBS,
                                P.MANAGE_USERS, P.MANAGE_ORGANISATIONS, P.READ_AUDIT}),
}
# Shipping lines and terminals get their own containers, never the agencies' working tools; an
# agency's user is never a shipping line's security (a README review gave one the role: it read the
# whole risk queue under a company's role, and no subscription could ever be made with it).
_ROLES_FOR_KIND: dict[OrgKind, frozenset[Role]] = {
    OrgKind.AGENCY: frozenset(Role) - {R.CARRIER_SECURITY},
    OrgKind.CARRIER: frozenset({R.CARRIER_SECURITY, R.ADMINISTRATOR}),
    OrgKind.TERMINAL: frozenset({R.CARRIER_SECURITY, R.ADMINISTRATOR}),
}
_NON_AGENCY_ALLOWED: frozenset[Permission] = frozenset({P.READ_TRIPS, P.MANAGE_USERS, P.MANAGE_SUBSCRIPTIONS,
                                                        P.SUPPLY_DATA})
#: What concerns the node as a whole (its risk rules and models, its jobs, its organisations and
#: their users, its audit log): only for users of the agency that runs the node (the host,
#: ``SCHELDT_LOCAL_ORGANISATION``). A partner agency's users work on the node as guests: an
#: attack review found a partner's officer switching the host's live profile, which re-scored
#: the host's whole queue, and a partner's administrator creating users in the host agency.
NODE_PERMISSIONS: frozenset[Permission] = frozenset({P.READ_PROFILES, P.PROPOSE_PROFILES, P.ACTIVATE_PROFILES,
                                                     P.RUN_JOBS, P.MANAGE_ORGANISATIONS, P.READ_AUDIT})

_ORG_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
_CODE = re.compile(r"^[A-Z0-9]{2,10}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True, slots=True)
class Organisation:
    """An agency or company: ``id`` a lower-case slug (``be-customs``), ``kind`` its OrgKind,
    ``carrier_codes`` / ``terminal_codes`` upper-case codes it owns."""

    id: str
    name: str
    kind: OrgKind
    carrier_codes: tuple[str, ...] = ()
    terminal_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the user, their organisation and roles (from a session or an API token);
    ``host`` when the organisation is the agency that runs this node (:data:`NODE_PERMISSIONS`);
    ``credential``: what the request signed in with, recorded in the audit log so that what one
    leaked token did can be found: ``"token 17"`` or ``"session 42"`` (the credential's id, as
    ``scheldt token list`` shows it), ``"password"`` (HTTP Basic), empty otherwise."""

    username: str
    organisation: Organisation
    roles: frozenset[Role]
    host: bool = False
    credential: str = ""

    def can(self, permission: Permission) -> bool:
        """True when one of the roles grants ``permission``, the organisation's kind allows it
        and, for a :data:`NODE_PERMISSIONS` one, the organisation is the host. A role its
        organisation's kind may not give grants nothing (an agency user given carrier_security
        before that was refused: a regression review's read the whole risk queue under it)."""
        if self.organisation.kind != OrgKind.AGENCY and permission not in _NON_AGENCY_ALLOWED:
            return False
        if permission in NODE_PERMISSIONS and not self.host:
            return False
        allowed = _ROLES_FOR_KIND[self.organisation.kind]
        return any(permission in _GRANTS[r] for r in self.roles if r in allowed)


@dataclass(frozen=True, slots=True)
class TripScope:
    """Which container trips an organisation owns: trips whose ``column`` (``carrier_code``,
    ``terminal_code`` or ``supplied_by``) is one of ``values``. Empty ``values`` own nothing."""

    column: str
    values: tuple[str, ...]

    def owns(self, trip: dict[str, object]) -> bool:
        """True when ``trip`` (a mapping with the scope's column) belongs to the organisation."""
        return str(trip.get(self.column, "")) in self.values


def trip_scope(org: Organisation) -> TripScope:
    """The trips ``org`` owns, by the rules in this module's docstring."""
    if org.kind == OrgKind.CARRIER:
        return TripScope("carrier_code", org.carrier_codes)
    if org.kind == OrgKind.TERMINAL:
        return TripScope("terminal_code", org.terminal_codes)
    return TripScope("supplied_by", (org.id,))


def permissions(roles: frozenset[Role]) -> frozenset[Permission]:
    """Every permission the roles grant together."""
    return frozenset().union(*(_GRANTS[r] for r in roles)) if roles else frozenset()


def parse_roles(names: list[str] | tuple[str, ...], kind: OrgKind, where: str = "roles") -> frozenset[Role]:
    """Roles from their names (``targeting_officer`` or ``targeting-officer``). Raises InputError
    for an unknown name, for none at all, or for a role an organisation of ``kind`` may not give
    (shipping lines and terminals: carrier_security and administrator only; agencies: all but
    carrier_security)."""
    if not names:
        raise InputError(where, "give at least one role")
    out = set()
    for name in names:
        try:
            role = Role(name.strip().lower().replace("-", "_"))
        except ValueError:
            raise InputError(where, f"unknown role {name!r}; roles: {', '.join(r.value for r in Role)}") from None
        if role not in _ROLES_FOR_KIND[kind]:
            raise InputError(where, f"{'an' if kind is OrgKind.AGENCY else 'a'} {kind.value} organisation cannot give "
                             f"the role {role.value}")
        out.add(role)
    return frozenset(out)


def check_organisation(org: Organisation) -> Organisation:
    """Validate an organisation. Raises InputError naming the field: a bad id (lower-case letters,
    digits, hyphens, 2-64), a bad code (2-10 upper-case letters or digits), a carrier without
    carrier codes or a terminal without terminal codes (it would own nothing), an agency with
    either (its trips are not owned by code; a CLI review's agency took a carrier's code and the
    carrier could not be made)."""
    if not _ORG_ID.match(org.id):
        raise InputError("organisation id", f"{org.id!r} must be 2-64 lower-case letters, digits or hyphens")
    if not org.name.strip():
        raise InputError("organisation name", "give a name")
    for field, codes in (("carrier_codes", org.carrier_codes), ("terminal_codes", org.terminal_codes)):
        for code in codes:
            if not _CODE.match(code):
                raise InputError(f"organisation {field}", f"{code!r} must be 2-10 upper-case letters or digits")
    if org.kind == OrgKind.AGENCY and (org.carrier_codes or org.terminal_codes):
        raise InputError("organisation carrier_codes" if org.carrier_codes else "organisation terminal_codes",
                         "an agency has no carrier or terminal codes: they are for shipping lines and terminals")
    if org.kind == OrgKind.CARRIER and not org.carrier_codes:
        raise InputError("organisation carrier_codes", "a carrier needs its SMDG liner code or SCAC")
    if org.kind == OrgKind.TERMINAL and not org.terminal_codes:
        raise InputError("organisation terminal_codes", "a terminal needs its SMDG terminal code")
    return org


#: Names the node signs its own work with, never a user's: the scheduler's job runs
#: (``requested_by``), the command line's when the operating-system user is unknown, and what
#: the node does by itself in the audit log (actor). An attack review's partner administrator
#: made a user "schedule", who then followed the node's scheduled runs (audit heads, notice
#: deliveries, federation pulls) and hid them from the host's administrators.
RESERVED_USERNAMES = frozenset({"schedule", "cli", "system", "federation"})


def check_username(name: str) -> str:
    """A username: 2-64 lower-case letters, digits, dots, hyphens, underscores, not one of
    :data:`RESERVED_USERNAMES`. Raises InputError."""
    if not _USERNAME.match(name):
        raise InputError("username", f"{name!r} must be 2-64 lower-case letters, digits, '.', '-' or '_'")
    if name in RESERVED_USERNAMES:
        raise InputError("username", f"{name!r} is the name this node signs its own work with: choose another")
    return name
