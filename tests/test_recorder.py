"""The recorder keeps every index and count it is given: no overflow, no silent saturation."""

from __future__ import annotations

from conftest import quick
from sim.recorder import TRADE_COLUMNS, Recorder
from sim.runs import run


def test_a_trade_that_fails_200_times_counts_200_fails():
    recorder = Recorder()
    trade = recorder.trades.add(*[0] * len(TRADE_COLUMNS))
    for _ in range(200):
        recorder.mark_failed(trade)
    assert recorder.trades.frame()["fails"].tolist() == [200]


def test_listing_and_group_indices_beyond_a_byte_are_recorded_as_given():
    recorder = Recorder()
    recorder.quotes.add(1.5, 1, 300, 100, 101, 5, 5, 1.0)
    recorder.settlement.add(1, 300, 0, 0, 0, 0)
    recorder.creations.add(1.5, 1, 300, 50_000, 1.0, 1_250)
    recorder.groups.add(1, 200, 10, 5, 0.5)
    recorder.allocations.add(0, -1, 10)  # the market maker's allocation
    assert recorder.quotes.frame()["listing"].tolist() == [300]
    assert recorder.settlement.frame()["listing"].tolist() == [300]
    assert recorder.creations.frame()["listing"].tolist() == [300]
    assert recorder.groups.frame()["group"].tolist() == [200]
    assert recorder.allocations.frame()["group"].tolist() == [-1]


def test_a_programme_issuing_every_day_runs_with_more_than_127_listings():
    programme = "issuers.hksar_government.programmes.green_tokenized"
    result = run(quick(
        "regular_bond_issuance", "horizon_days=135", f"{programme}.every_days=1",
        f"{programme}.listing.market_maker.requote_minutes=480",  # few requotes on the many new books: a quick run
        "investors.retail.needs_per_day=20", "investors.institutional.needs_per_day=20",
        "investors.retail.subscription.orders_per_issue=3", "investors.institutional.subscription.orders_per_issue=3",
    ), seed=1)
    assert result.daily["listing"].nunique() > 127
    listed = result.daily.drop_duplicates("listing").set_index("listing")["instrument"]
    assert listed[listed.index > 127].str.startswith("green_tokenized_").all()  # each row names its own listing
