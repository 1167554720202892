"""The order book's input contract: whole-number prices and quantities of at least 1, int order
ids, a rejected call (replace included, all or nothing) leaves the book exactly as it was."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.market.orderbook import BUY, SELL, Fill, OrderBook

MAKER, TAKER = 7, 9


def ladder_book() -> tuple[OrderBook, list[int]]:
    """A maker's ladder, one order partly filled and one cancelled, so every counter is non-zero."""
    book = OrderBook()
    ids, _ = book.replace([], [(BUY, 99, 5), (SELL, 101, 5), (BUY, 98, 4), (SELL, 102, 4), (SELL, 101, 3)], MAKER)
    book.submit_ioc(BUY, 101, 2, TAKER)
    book.cancel(ids[3])
    return book, ids


def state(book: OrderBook) -> tuple:
    """Everything the book answers, counters included."""
    ids = list(range(1, book.limit_orders() + 1))
    return (book.top(), book.depth(BUY, 1000), book.depth(SELL, 1000), book.remaining_of(ids), book.resting_orders(),
            book.resting_qty(BUY), book.resting_qty(SELL), book.limit_orders(), book.cancels, book.taken)


def sweep(book: OrderBook) -> list[Fill]:
    """The fills of sweeping both sides: equal sweeps mean equal queues, time priority included."""
    return book.submit_market(BUY, 10**9, TAKER) + book.submit_market(SELL, 10**9, TAKER)


def assert_rejected(call, book: OrderBook, name: str, value) -> None:
    """`call(book)` raises a ValueError naming `name` and `value`, and changes nothing."""
    twin, _ = ladder_book()
    before = state(book)
    with pytest.raises(ValueError, match=re.escape(name)) as error:
        call(book)
    assert repr(value) in str(error.value)
    assert state(book) == before
    assert sweep(book) == sweep(twin)


ENTRY_POINTS = {
    "submit_limit price": (lambda b, v: b.submit_limit(BUY, v, 1, TAKER), "price"),
    "submit_limit qty": (lambda b, v: b.submit_limit(SELL, 101, v, TAKER), "qty"),
    "submit_ioc price": (lambda b, v: b.submit_ioc(BUY, v, 1, TAKER), "price"),
    "submit_ioc qty": (lambda b, v: b.submit_ioc(BUY, 101, v, TAKER), "qty"),
    "submit_market qty": (lambda b, v: b.submit_market(SELL, v, TAKER), "qty"),
    "replace price": (lambda b, v: b.replace([1, 2], [(BUY, v, 1)], MAKER), "orders[0] price"),
    "replace qty": (lambda b, v: b.replace([1, 2], [(SELL, 103, v)], MAKER), "orders[0] qty"),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_nan_quantity_or_price_is_rejected_without_touching_the_book(entry):
    call, name = ENTRY_POINTS[entry]
    book, _ = ladder_book()
    assert_rejected(lambda b: call(b, math.nan), book, name, math.nan)


@pytest.mark.parametrize("value", [101.0, 100.5, math.inf, "101", True, False, None, 1 + 0j])
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_non_integer_price_or_quantity_is_rejected_naming_argument_and_value(entry, value):
    call, name = ENTRY_POINTS[entry]
    book, _ = ladder_book()
    assert_rejected(lambda b: call(b, value), book, name, value)


@pytest.mark.parametrize("value", [0, -1, -(10**20)])
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_zero_or_negative_price_or_quantity_is_rejected(entry, value):
    call, name = ENTRY_POINTS[entry]
    book, _ = ladder_book()
    assert_rejected(lambda b: call(b, value), book, name, value)


@pytest.mark.parametrize("side", [0, 2, -2, 1.0, True, "BUY", None, math.nan])
def test_side_other_than_buy_or_sell_is_rejected(side):
    for call in (
        lambda b: b.submit_limit(side, 100, 1, TAKER),
        lambda b: b.submit_ioc(side, 100, 1, TAKER),
        lambda b: b.submit_market(side, 1, TAKER),
        lambda b: b.replace([1], [(BUY, 97, 1), (side, 100, 1)], MAKER),
    ):
        book, _ = ladder_book()
        assert_rejected(call, book, "side", side)


@pytest.mark.parametrize("order_id", [1.0, True, "1", None, math.nan])
def test_order_id_that_is_not_an_int_is_rejected(order_id):
    assert_rejected(lambda b: b.cancel(order_id), ladder_book()[0], "order_id", order_id)
    assert_rejected(lambda b: b.replace([2, order_id], [(BUY, 97, 1)], MAKER), ladder_book()[0], "order_ids[1]", order_id)


def test_unknown_int_order_id_still_cancels_nothing_and_counts():
    book, _ = ladder_book()
    before = state(book)
    assert book.cancel(999) == 0 and book.cancel(0) == 0 and book.cancel(-4) == 0
    assert book.cancels == before[-2] + 3 and state(book)[:-2] == before[:-2]


@pytest.mark.parametrize("bad_order", [
    (SELL, 103, 0), (BUY, 97, math.nan), (SELL, 103.5, 2), (BUY, 0, 1), (BUY, 97, True), (3, 97, 1), (BUY, 97), "x",
])
@pytest.mark.parametrize("cancel", ["every resting order", "some resting orders"])
def test_replace_with_a_bad_later_order_leaves_the_book_exactly_as_it_was(bad_order, cancel):
    """The first orders are good and one crosses the book; the bad one comes last."""
    book, ids = ladder_book()
    twin, _ = ladder_book()
    order_ids = [i for i in ids if book.remaining(i)] if cancel == "every resting order" else ids[:2]
    good = [(BUY, 102, 1), (SELL, 100, 2), (BUY, 96, 3)]
    before = state(book)
    with pytest.raises(ValueError, match=re.escape("orders[3]")):
        book.replace(order_ids, good + [bad_order], MAKER)
    assert state(book) == before
    assert book.replace(order_ids, good, MAKER) == twin.replace(order_ids, good, MAKER)  # same ids: none consumed
    assert state(book) == state(twin) and sweep(book) == sweep(twin)


def test_replace_takes_its_new_orders_from_any_iterable_once():
    book, twin = OrderBook(), OrderBook()
    orders = [(BUY, 99, 5), (SELL, 101, 5)]
    assert book.replace([], iter(orders), MAKER) == twin.replace([], orders, MAKER)
    assert state(book) == state(twin)


def test_replace_accepts_orders_as_any_three_item_sequence():
    book, twin = OrderBook(), OrderBook()
    assert book.replace([], [[BUY, 99, 5], (SELL, np.int64(101), 5)], MAKER) == twin.replace(
        [], [(BUY, 99, 5), (SELL, 101, 5)], MAKER)
    assert state(book) == state(twin)


def test_numpy_integers_are_accepted_and_stored_as_python_ints():
    book = OrderBook()
    ids, _ = book.replace([], [(np.int64(BUY), np.int64(99), np.int32(5)), (SELL, np.int16(101), np.int64(5))], MAKER)
    order_id, _ = book.submit_limit(np.int8(SELL), np.int64(102), np.uint16(2), MAKER)
    fills = book.submit_ioc(BUY, np.int64(102), np.int64(6), TAKER) + book.submit_market(np.int64(SELL), np.int64(1), TAKER)
    assert fills == [Fill(ids[1], MAKER, 101, 5), Fill(order_id, MAKER, 102, 1), Fill(ids[0], MAKER, 99, 1)]
    for value in [*state(book)[1][0], *(x for fill in fills for x in fill)]:
        assert type(value) is int
    assert book.cancel(np.int64(ids[0])) == 4


# -- property: random valid and invalid operations never corrupt the book ------------------

BAD_NUMBERS = [0, -1, math.nan, math.inf, 1.5, 100.0, True, False, "100", None]
good_prices, good_qtys = st.integers(95, 105), st.integers(1, 9)
prices = st.one_of(good_prices, st.sampled_from(BAD_NUMBERS))
qtys = st.one_of(good_qtys, st.sampled_from(BAD_NUMBERS))
sides = st.one_of(st.sampled_from([BUY, SELL]), st.sampled_from([BUY, SELL, 0, 2, 1.0, True]))
ids = st.one_of(st.integers(-1, 40), st.sampled_from([1.0, True, math.nan, "3"]))
operations = st.lists(st.one_of(
    st.tuples(st.just("submit_limit"), sides, prices, qtys, st.integers(1, 3)),
    st.tuples(st.just("submit_ioc"), sides, prices, qtys, st.integers(1, 3)),
    st.tuples(st.just("submit_market"), sides, qtys, st.integers(1, 3)),
    st.tuples(st.just("cancel"), ids),
    st.tuples(st.just("replace"), st.lists(ids, max_size=6), st.lists(st.tuples(sides, prices, qtys), max_size=6),
              st.integers(1, 3)),
    st.tuples(st.just("replace every resting order"), st.lists(st.tuples(sides, prices, qtys), max_size=6)),
), max_size=50)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_valid_and_invalid_operations_never_corrupt_the_book(ops):
    """A twin book gets only the operations the book accepted: a rejected one must have changed nothing."""
    book, twin = OrderBook(), OrderBook()
    for op in ops:
        name, args = op[0], op[1:]
        if name == "replace every resting order":
            live = [i for i in range(1, book.limit_orders() + 1) if book.remaining(i)]
            name, args = "replace", (live, args[0], MAKER)
        before = state(book)
        try:
            result = getattr(book, name)(*args)
        except ValueError:
            assert state(book) == before
            continue
        assert getattr(twin, name)(*args) == result
        bid, ask, bid_qty, ask_qty = book.top()
        assert bid is None or ask is None or bid < ask
        live = [i for i in range(1, book.limit_orders() + 1) if book.remaining(i)]
        for side in (BUY, SELL):
            depth = book.depth(side, 1000)
            assert all(type(p) is int and type(q) is int and p >= 1 and q >= 1 for p, q in depth)
            assert sum(q for _, q in depth) == book.resting_qty(side)
            assert book.depth_at_best(side) == (depth[0][1] if depth else 0)
        assert sum(map(book.remaining, live)) == book.resting_qty(BUY) + book.resting_qty(SELL)
        assert len(live) == book.resting_orders()
        assert state(book) == state(twin)
    assert sweep(book) == sweep(twin)
