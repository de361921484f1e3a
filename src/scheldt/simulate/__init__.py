"""Simulated port traffic with planted smuggling cases: demos, backtests, load tests.

SIMULATED DATA. Nothing here is a real shipment, company or seizure. Volumes and mixes are sized
from the public figures in ../shared/docs/domain-brief.md section 3 (Antwerp-Bruges: about
11,500 inbound containers a day; reefers about 8.5 %; about 900 a day from South America).

Planting spec (written before the indicators were tuned; :mod:`scheldt.simulate.spec` holds the
numbers). Benign traffic shows every indicator at a stated base rate, because legitimate trade
does: fruit from Guayaquil, first-time importers, quick pick-ups of perishables, reseals after
an inspection at origin, VGM that differs from the declared mass, dry goods in a (non-operating)
reefer box, vessels waiting at sea before arrival, fruit relayed at Balboa or Cartagena; and
planted trips show these signs as often, a load being hidden in an ordinary shipment. Two
indicators have no benign base rate, and no planted case shows them either: gate_out_without_release
needs a national customs release feed that no format here carries (the simulator writes no
release events; the default profile leaves it out), and watchlist_match needs a watchlist, which
the simulator does not write. Planted cases follow the
documented methods (brief section 2.1): rip-on/rip-off, cover loads through front companies,
misused release (PIN) codes, "Trojan" empty containers. At least 30 % of planted cases are
*subtle*: they show no strong indicator (seal change, late party change, cash freight, empty
gate-in without booking) and only a combination of weak ones. Each case's method and the
indicators it was given are in the ground-truth file, never in the traffic files.

Time model: every fact is received at the end (23:59:59 UTC) of the day it happened, as a daily
feed would deliver it; a daily targeting run at that moment scores the trips discharged that day.
AIS positions of each arriving vessel are sampled every :data:`spec.AIS_INTERVAL_HOURS` hours
over its last :data:`spec.AIS_DAYS` days at sea (a month stays a few hundred thousand positions).
"""
