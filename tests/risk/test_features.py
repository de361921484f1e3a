"""Past-outcome features use only outcomes received before the moment of scoring."""

from __future__ import annotations

from datetime import UTC, datetime

from scheldt.risk import features
from scheldt.risk.frames import declarations_frame, outcomes_frame
from tests.builders import declaration, outcome


def test_history_counts_only_outcomes_received_before_filing() -> None:
    decls = [declaration("A", 1), declaration("B", 3), declaration("C", 5), declaration("D", 5)]
    frame = declarations_frame(decls)
    # A's result arrives on day 3 (at midnight: B, filed at 00:00 that day, must not see it);
    # B's on day 4 (fraud-free); C's on day 9 (after everything here).
    outs = outcomes_frame([outcome("A", 3, fraud=True, critical=True), outcome("B", 4, fraud=False),
                           outcome("C", 9)])
    X = features.encode(frame, features.learn_vocabulary(frame), history=frame, outcomes=outs)
    n = X["template_n"].to_list()
    assert n == [0.0, 0.0, 2.0, 2.0]
    rate = X["template_fraud_rate"].to_list()
    assert rate[0] is None  # no earlier inspection: missing, not zero
    assert rate[2:] == [0.5, 0.5]
    assert X["template_critical_rate"].to_list()[2:] == [0.5, 0.5]
    assert X["importer_n"].to_list() == [0.0, 0.0, 2.0, 2.0]


def test_scoring_at_one_moment_matches_per_row_replay() -> None:
    decls = [declaration("A", 1), declaration("B", 2, value=2000.0), declaration("C", 9)]
    frame = declarations_frame(decls)
    outs = outcomes_frame([outcome("A", 2), outcome("B", 3, fraud=False)])
    vocab = features.learn_vocabulary(frame)
    as_of = datetime(2021, 3, 9, tzinfo=UTC)
    one = features.encode(frame[2:], vocab, history=frame, outcomes=outs, as_of=as_of)
    replay = features.encode(frame, vocab, history=frame, outcomes=outs)[2:]
    assert one.to_dicts() == replay.to_dicts()
    assert one["hs6_n"].to_list() == [2.0] and one["template_n"].to_list() == [1.0]


def test_unknown_codes_encode_as_missing_and_hs_as_numbers() -> None:
    frame = declarations_frame([declaration("A", 1, tax_type="FCN1", hs_code="0803901000")])
    vocab = {f: [] for f in features.CODED_FIELDS}
    X = features.encode(frame, vocab, history=frame.head(0), outcomes=outcomes_frame([]),
                        as_of=datetime(2021, 3, 2, tzinfo=UTC))
    row = X.row(0, named=True)
    assert row["tax_type"] is None
    assert (row["hs6"], row["hs4"], row["hs2"]) == (80390.0, 803.0, 8.0)
    assert row["unit_value"] == 10.0
    assert list(X.columns) == list(features.FEATURE_NAMES)
