"""Tests for the limit order book: priority rules, fills, cancels, depth
queries, input checks, and a property test against a brute-force book."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.market.orderbook import BUY, SELL, Fill, OrderBook

MAKER, TAKER = 7, 9


def book_with(*orders: tuple[int, int, int]) -> tuple[OrderBook, list[int]]:
    """A book holding resting (side, price, qty) orders from MAKER, and their ids."""
    book = OrderBook()
    ids = []
    for side, price, qty in orders:
        order_id, fills = book.submit_limit(side, price, qty, MAKER)
        assert fills == []
        ids.append(order_id)
    return book, ids


def test_order_ids_are_consecutive_from_one_even_when_fully_filled():
    book, ids = book_with((SELL, 100, 5))
    order_id, fills = book.submit_limit(BUY, 100, 5, TAKER)
    assert ids == [1] and order_id == 2 and fills == [Fill(1, MAKER, 100, 5)]
    assert book.remaining(order_id) == 0 and book.resting_orders() == 0
    assert book.submit_limit(BUY, 90, 1, TAKER)[0] == 3
    assert OrderBook().submit_limit(SELL, 100, 1, TAKER)[0] == 1  # ids are per book


def test_no_self_trade_prevention_owner_can_fill_own_order():
    book = OrderBook()
    order_id, _ = book.submit_limit(SELL, 100, 5, MAKER)
    assert book.submit_limit(BUY, 100, 5, MAKER)[1] == [Fill(order_id, MAKER, 100, 5)]


def test_price_priority_market_buy_takes_lowest_ask_first():
    book, (a102, a100, a101) = book_with((SELL, 102, 5), (SELL, 100, 5), (SELL, 101, 5))
    assert book.submit_market(BUY, 5, TAKER) == [Fill(a100, MAKER, 100, 5)]
    assert book.best_ask() == 101


def test_price_priority_market_sell_takes_highest_bid_first():
    book, (b98, b99) = book_with((BUY, 98, 5), (BUY, 99, 5))
    assert book.submit_market(SELL, 5, TAKER) == [Fill(b99, MAKER, 99, 5)]
    assert book.best_bid() == 98


def test_time_priority_older_order_at_same_price_fills_first():
    book = OrderBook()
    older, _ = book.submit_limit(SELL, 100, 5, 1)
    newer, _ = book.submit_limit(SELL, 100, 5, 2)
    assert book.submit_ioc(BUY, 100, 3, TAKER) == [Fill(older, 1, 100, 3)]
    assert book.submit_ioc(BUY, 100, 4, TAKER) == [Fill(older, 1, 100, 2), Fill(newer, 2, 100, 2)]
    assert book.remaining(newer) == 3


def test_partial_fill_limit_rests_remainder_at_its_limit_price():
    book, (a, b, c) = book_with((SELL, 100, 3), (SELL, 101, 4), (SELL, 103, 5))
    order_id, fills = book.submit_limit(BUY, 102, 10, TAKER)
    assert fills == [Fill(a, MAKER, 100, 3), Fill(b, MAKER, 101, 4)]
    assert book.remaining(order_id) == 3
    assert book.best_bid() == 102 and book.best_ask() == 103
    assert book.depth(BUY, 5) == [(102, 3)]
    assert book.remaining(c) == 5


@pytest.mark.parametrize("submit", [
    lambda book: book.submit_ioc(BUY, 102, 10, TAKER),
    lambda book: book.submit_market(BUY, 10, TAKER),
])
def test_partial_fill_ioc_and_market_drop_remainder(submit):
    book, (a, b) = book_with((SELL, 100, 3), (SELL, 101, 4))
    fills = submit(book)
    assert fills == [Fill(a, MAKER, 100, 3), Fill(b, MAKER, 101, 4)]
    assert book.best_bid() is None and book.best_ask() is None
    assert book.resting_orders() == 0 and book.resting_qty(BUY) == 0


def test_ioc_leaves_levels_beyond_its_limit_untouched():
    book, (a, b) = book_with((SELL, 100, 3), (SELL, 103, 4))
    assert book.submit_ioc(BUY, 102, 10, TAKER) == [Fill(a, MAKER, 100, 3)]
    assert book.best_ask() == 103 and book.remaining(b) == 4 and book.best_bid() is None


def test_non_crossing_limit_rests_without_trading():
    book, (ask,) = book_with((SELL, 101, 5))
    order_id, fills = book.submit_limit(BUY, 100, 5, TAKER)
    assert fills == []
    assert book.best_bid() == 100 and book.best_ask() == 101
    assert book.remaining(order_id) == 5 and book.remaining(ask) == 5


def test_limit_exactly_at_best_opposite_price_trades():
    book, (bid,) = book_with((BUY, 100, 5))
    order_id, fills = book.submit_limit(SELL, 100, 2, TAKER)
    assert fills == [Fill(bid, MAKER, 100, 2)]
    assert book.remaining(order_id) == 0 and book.best_ask() is None
    assert book.depth_at_best(BUY) == 3


def test_fills_at_maker_price_not_taker_limit():
    book, (ask,) = book_with((SELL, 100, 5))
    assert book.submit_limit(BUY, 105, 5, TAKER)[1] == [Fill(ask, MAKER, 100, 5)]
    book, (bid,) = book_with((BUY, 100, 5))
    assert book.submit_ioc(SELL, 95, 5, TAKER) == [Fill(bid, MAKER, 100, 5)]


def test_cancel_returns_resting_qty_and_order_never_fills_afterwards():
    book, (first, second) = book_with((SELL, 100, 5), (SELL, 100, 6))
    assert book.cancel(first) == 5
    assert book.remaining(first) == 0
    assert book.submit_market(BUY, 20, TAKER) == [Fill(second, MAKER, 100, 6)]
    assert book.cancel(first) == 0  # twice
    assert book.cancel(second) == 0  # already filled
    assert book.cancel(12345) == 0  # unknown


def test_cancel_partially_filled_order_returns_only_remainder():
    book, (ask,) = book_with((SELL, 100, 10))
    book.submit_ioc(BUY, 100, 4, TAKER)
    assert book.cancel(ask) == 6
    assert book.resting_qty(SELL) == 0 and book.resting_orders() == 0


def test_cancel_only_order_at_best_moves_best_to_next_level():
    book, (b100, b99, a101, a102) = book_with((BUY, 100, 1), (BUY, 99, 2), (SELL, 101, 3), (SELL, 102, 4))
    book.cancel(b100)
    book.cancel(a101)
    assert book.best_bid() == 99 and book.best_ask() == 102
    assert book.depth_at_best(BUY) == 2 and book.depth_at_best(SELL) == 4
    book.cancel(b99)
    assert book.best_bid() is None and book.depth_at_best(BUY) == 0 and book.depth(BUY, 3) == []


def test_cancel_below_best_then_market_skips_cancelled_level():
    book, (a100, a101, a102) = book_with((SELL, 100, 1), (SELL, 101, 1), (SELL, 102, 1))
    book.cancel(a101)
    assert book.depth(SELL, 5) == [(100, 1), (102, 1)]
    assert book.submit_market(BUY, 5, TAKER) == [Fill(a100, MAKER, 100, 1), Fill(a102, MAKER, 102, 1)]


def test_market_order_walks_several_levels_in_order():
    book, ids = book_with((BUY, 97, 4), (BUY, 99, 2), (BUY, 99, 3), (BUY, 98, 5))
    fills = book.submit_market(SELL, 12, TAKER)
    b97, b99a, b99b, b98 = ids
    assert fills == [Fill(b99a, MAKER, 99, 2), Fill(b99b, MAKER, 99, 3), Fill(b98, MAKER, 98, 5),
                     Fill(b97, MAKER, 97, 2)]
    assert sum(f.qty for f in fills) == 12
    assert book.depth(BUY, 5) == [(97, 2)] and book.remaining(b97) == 2


def test_market_order_on_empty_side_returns_no_fills():
    book, _ = book_with((BUY, 99, 5))
    assert book.submit_market(BUY, 5, TAKER) == []
    assert OrderBook().submit_market(SELL, 5, TAKER) == []
    assert book.depth(BUY, 1) == [(99, 5)]


def test_depth_queries_after_mixed_sequence():
    book, (b1, b2, b3, a1, a2, a3) = book_with(
        (BUY, 99, 5), (BUY, 99, 3), (BUY, 97, 2), (SELL, 101, 4), (SELL, 102, 6), (SELL, 104, 1))
    book.cancel(b2)
    book.submit_ioc(BUY, 101, 1, TAKER)  # a1: 4 -> 3
    book.submit_limit(SELL, 98, 6, TAKER)  # fills b1 (5), rests 1 @ 98
    book.submit_limit(BUY, 96, 8, TAKER)
    assert book.best_bid() == 97 and book.best_ask() == 98
    assert book.depth(BUY, 10) == [(97, 2), (96, 8)]
    assert book.depth(SELL, 2) == [(98, 1), (101, 3)]
    assert book.depth(SELL, 10) == [(98, 1), (101, 3), (102, 6), (104, 1)]
    assert book.depth(SELL, 0) == []
    assert book.depth_at_best(BUY) == 2 and book.depth_at_best(SELL) == 1
    assert book.resting_qty(BUY) == 10 and book.resting_qty(SELL) == 11
    assert book.resting_orders() == 6


@pytest.mark.parametrize("call", [
    lambda b: b.submit_limit(0, 100, 1, TAKER),
    lambda b: b.submit_limit(2, 100, 1, TAKER),
    lambda b: b.submit_limit(BUY, 100, 0, TAKER),
    lambda b: b.submit_limit(SELL, 100, -3, TAKER),
    lambda b: b.submit_limit(BUY, 0, 1, TAKER),
    lambda b: b.submit_limit(SELL, -5, 1, TAKER),
    lambda b: b.submit_ioc(5, 100, 1, TAKER),
    lambda b: b.submit_ioc(BUY, 100, 0, TAKER),
    lambda b: b.submit_ioc(BUY, 0, 1, TAKER),
    lambda b: b.submit_market(-2, 1, TAKER),
    lambda b: b.submit_market(SELL, 0, TAKER),
    lambda b: b.depth(3, 1),
    lambda b: b.depth(BUY, -1),
    lambda b: b.depth_at_best(0),
    lambda b: b.resting_qty(7),
])
def test_invalid_inputs_raise_value_error(call):
    book, _ = book_with((BUY, 99, 5), (SELL, 101, 5))
    with pytest.raises(ValueError):
        call(book)
    assert book.depth(BUY, 5) == [(99, 5)] and book.depth(SELL, 5) == [(101, 5)]
    assert book.submit_limit(BUY, 90, 1, TAKER)[0] == 3  # rejected orders consume no id


def test_cancel_heavy_run_keeps_internal_structures_small():
    """Lazy deletion must not grow memory without bound (peeks at internals)."""
    book = OrderBook()
    anchor, _ = book.submit_limit(SELL, 100, 1, MAKER)  # keeps level 100 alive
    book.submit_limit(SELL, 150, 1, MAKER)  # keeps the ask heap top live
    for i in range(5_000):
        order_id, _ = book.submit_limit(SELL, 100, 1, MAKER)
        book.cancel(order_id)
        order_id, _ = book.submit_limit(SELL, 200 + i % 300, 1, MAKER)  # levels below the top
        book.cancel(order_id)
    asks = book._sides[SELL]
    assert len(asks.levels[100].orders) < 50 and len(asks.heap) < 50
    assert book.depth(SELL, 5) == [(100, 1), (150, 1)] and book.resting_orders() == 2
    assert book.submit_market(BUY, 1, TAKER) == [Fill(anchor, MAKER, 100, 1)]


# -- property test against a brute-force reference -----------------------


class RefBook:
    """Obviously-correct list-based book: re-sorts all resting orders per match."""

    def __init__(self) -> None:
        self.orders: list[list[int]] = []  # [order_id, side, price, qty, owner]
        self.next_id = 1

    def match(self, side: int, limit: int | None, qty: int) -> list[Fill]:
        def crosses(o: list[int]) -> bool:
            return o[1] == -side and (limit is None or (o[2] <= limit if side == BUY else o[2] >= limit))

        # Python's sort is stable, so equal prices keep arrival (time) order.
        queue = sorted(filter(crosses, self.orders), key=lambda o: o[2] * side)
        fills = []
        for o in queue:
            if qty == 0:
                break
            trade = min(qty, o[3])
            fills.append(Fill(o[0], o[4], o[2], trade))
            o[3] -= trade
            qty -= trade
        self.orders = [o for o in self.orders if o[3]]
        self.rest_qty = qty
        return fills

    def limit(self, side, price, qty, owner) -> tuple[int, list[Fill]]:
        order_id = self.next_id
        self.next_id += 1
        fills = self.match(side, price, qty)
        if self.rest_qty:
            self.orders.append([order_id, side, price, self.rest_qty, owner])
        return order_id, fills

    def cancel(self, order_id: int) -> int:
        for o in self.orders:
            if o[0] == order_id:
                self.orders.remove(o)
                return o[3]
        return 0

    def depth(self, side: int) -> list[tuple[int, int]]:
        totals: dict[int, int] = {}
        for o in self.orders:
            if o[1] == side:
                totals[o[2]] = totals.get(o[2], 0) + o[3]
        return sorted(totals.items(), key=lambda pq: -pq[0] * side)


sides = st.sampled_from([BUY, SELL])
prices = st.integers(90, 110)
qtys = st.integers(1, 20)
owners = st.integers(1, 3)
operations = st.lists(st.one_of(
    st.tuples(st.just("limit"), sides, prices, qtys, owners),
    st.tuples(st.just("ioc"), sides, prices, qtys, owners),
    st.tuples(st.just("market"), sides, qtys, owners),
    st.tuples(st.just("cancel"), st.integers(1, 40)),
), max_size=60)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_matches_reference_book_and_conserves_quantity(ops):
    book, ref = OrderBook(), RefBook()
    submitted: dict[int, int] = {}  # limit order id -> submitted qty
    accounted: dict[int, int] = {}  # limit order id -> filled + cancelled qty
    total_in = total_filled = total_dropped = total_cancelled = 0
    for op in ops:
        kind = op[0]
        if kind == "cancel":
            cancelled = book.cancel(op[1])
            assert cancelled == ref.cancel(op[1])
            accounted[op[1]] = accounted.get(op[1], 0) + cancelled
            total_cancelled += cancelled
            fills = []
        else:
            side, qty = op[1], op[-2]
            limit = None if kind == "market" else op[2]
            total_in += qty
            if kind == "limit":
                order_id, fills = book.submit_limit(side, limit, qty, op[-1])
                assert (order_id, fills) == ref.limit(side, limit, qty, op[-1])
                submitted[order_id] = qty
                accounted[order_id] = sum(f.qty for f in fills)
                assert book.remaining(order_id) == qty - accounted[order_id]
            else:
                fills = (book.submit_market(side, qty, op[-1]) if kind == "market"
                         else book.submit_ioc(side, limit, qty, op[-1]))
                assert fills == ref.match(side, limit, qty)
                total_dropped += qty - sum(f.qty for f in fills)
            if limit is not None:
                assert all(f.price <= limit if side == BUY else f.price >= limit for f in fills)
        for f in fills:
            assert f.qty > 0
            accounted[f.maker_order_id] += f.qty
            total_filled += 2 * f.qty  # once for the taker, once for the maker

        bid, ask = book.best_bid(), book.best_ask()
        assert bid is None or ask is None or bid < ask
        for side in (BUY, SELL):
            expected = ref.depth(side)
            assert book.depth(side, 100) == expected
            assert book.depth_at_best(side) == (expected[0][1] if expected else 0)
            assert book.resting_qty(side) == sum(q for _, q in expected)
        assert (bid, ask) == (ref.depth(BUY)[0][0] if ref.depth(BUY) else None,
                              ref.depth(SELL)[0][0] if ref.depth(SELL) else None)
        assert book.top() == (bid, ask, book.depth_at_best(BUY), book.depth_at_best(SELL))
        assert book.two_sided() == (bid is not None and ask is not None)
        assert book.resting_orders() == len(ref.orders)
        live = {o[0]: o[3] for o in ref.orders}
        ids = list(range(1, ref.next_id))
        assert book.remaining_of(ids) == [live.get(i) for i in ids]
    assert book.limit_orders() == ref.next_id - 1
    assert book.cancels == sum(op[0] == "cancel" for op in ops)

    resting = book.resting_qty(BUY) + book.resting_qty(SELL)
    assert total_in == total_filled + resting + total_cancelled + total_dropped
    for order_id, qty in submitted.items():
        assert qty == accounted[order_id] + book.remaining(order_id)


# -- replace: one call for a ladder's cancels and new orders ------------------

ladder_orders = st.lists(st.tuples(sides, prices, st.integers(0, 20)), max_size=8)  # qty 0 is rejected, with the whole ladder
cancel_ids = st.one_of(st.lists(st.integers(1, 60), max_size=8), st.just("every resting order"))
others = st.lists(st.tuples(sides, prices, qtys, owners), max_size=4)  # limit orders sent between re-sends
rounds = st.lists(st.tuples(others, cancel_ids, ladder_orders, owners), min_size=1, max_size=8)


def separately(book: OrderBook, order_ids, orders, owner) -> tuple[list[int], list[Fill]]:
    """What replace stands for: the plain cancel and submit_limit calls, none of them if a new order is bad."""
    for side, price, qty in orders:
        OrderBook().submit_limit(side, price, qty, owner)  # raises on a bad order before the book changes
    for order_id in order_ids:
        book.cancel(order_id)
    ids, fills = [], []
    for side, price, qty in orders:
        order_id, more = book.submit_limit(side, price, qty, owner)
        ids.append(order_id)
        fills += more
    return ids, fills


def answers(book: OrderBook) -> tuple:
    ids = list(range(1, book.limit_orders() + 1))
    return (book.top(), book.depth(BUY, 100), book.depth(SELL, 100), book.remaining_of(ids),
            book.resting_orders(), book.resting_qty(BUY), book.resting_qty(SELL), book.limit_orders(), book.cancels)


@settings(max_examples=300, deadline=None)
@given(start=operations, rounds=rounds)
def test_replace_equals_separate_cancels_and_limit_orders(start, rounds):
    fast, plain = OrderBook(), OrderBook()
    for book in (fast, plain):
        for op in start:
            if op[0] == "limit":
                book.submit_limit(*op[1:])
            elif op[0] == "cancel":
                book.cancel(op[1])
    most_levels = 0
    for between, order_ids, orders, owner in rounds:
        for order in between:
            assert fast.submit_limit(*order) == plain.submit_limit(*order)
        if order_ids == "every resting order":  # as a maker alone in its book: the book empties at once
            order_ids = [i for i in range(1, plain.limit_orders() + 1) if plain.remaining(i)] + [999]
        most_levels = max(most_levels, len(fast._sides[BUY].levels) + len(fast._sides[SELL].levels))
        outcomes = []
        before = answers(fast)
        for book, call in ((fast, fast.replace), (plain, lambda *a: separately(plain, *a))):
            try:
                outcomes.append(call(order_ids, orders, owner))
            except ValueError:
                outcomes.append("rejected")
        assert outcomes[0] == outcomes[1]
        if outcomes[0] == "rejected":  # all or nothing
            assert answers(fast) == before
        assert answers(fast) == answers(plain)
        assert len(fast._spare) <= most_levels  # spare levels stay few and empty
        assert all(not level.orders and not level.live and not level.qty for level in fast._spare)
    for side in (BUY, SELL):  # same queues: sweeping each side fills in the same order
        assert fast.submit_market(side, 10**6, TAKER) == plain.submit_market(side, 10**6, TAKER)
