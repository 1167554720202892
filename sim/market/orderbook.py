"""Continuous double-auction limit order book with price-time priority.

Models the central limit order book of one instrument on one venue: limit
orders rest until matched or cancelled, marketable orders trade against the
opposite side best price first and, within a price, oldest first, always at
the resting (maker) order's price. Every trade in the simulator goes through
a book like this, so it is plain Python on integer ticks and quantities
(no SimPy, numpy or pandas) and costs O(log levels) per order plus O(1)
per fill.

Layout, chosen for speed:

* Each side keeps ``dict key -> _Level`` plus a heap of keys. Keys are signed
  so the best price is always the heap minimum (asks: ``price``, bids:
  ``-price``); a taker of side ``s`` with limit ``p`` crosses a level with key
  ``k`` iff ``k <= s * p``.
* A resting order is just its id in its level's FIFO deque plus entries in
  three ``order_id -> int`` dicts (remaining qty, level key, owner) that hold
  live orders only. No per-order object is built, so a deep book adds no
  work for Python's cyclic garbage collector.
* Cancel is O(1): it drops the dict entries and leaves the id in the deque,
  where matching skips it. A level is dropped when its last live order goes; a
  deque is compacted when cancelled ids dominate it; the heap is popped until
  its top is live whenever the top level goes, and rebuilt when stale keys
  dominate it. So public answers are always exact and memory stays
  proportional to the live book on cancel-heavy runs.

Only ``submit_limit`` and ``replace`` consume order ids (IOC and market orders never rest,
so they need none); a taker's ``owner`` is not recorded, since fills name
only the maker and the caller already knows the taker. There is no self-trade prevention: a taker may fill
against resting orders of the same owner.

Contract at the entry points: a side is ``BUY`` or ``SELL``, a price a whole number of ticks
(at least 1), a quantity a whole number of units (at least 1) and an order id an int; anything
else (a float, even a whole one, NaN, a string, a bool, zero or less) raises a ``ValueError``
naming the argument and the value, and leaves the book exactly as it was. ``replace`` checks
every new order before it cancels or places anything, so it is all or nothing. Ints of other
integral types (numpy's) are accepted and stored as Python ints. The checks stay cheap on the
hot path: one inline test per order relying on ``type(x) is int`` and on CPython keeping one
object per small int (so ``side is BUY`` holds for any Python int 1); whatever fails it goes
to ``_order``, which accepts the integral values the inline test let slip and explains the rest.
"""

from collections import deque
from heapq import heapify, heappop, heappush, nsmallest
from numbers import Integral
from operator import index
from typing import NamedTuple

BUY = 1
SELL = -1

_NO_LIMIT = 1 << 62  # key bound every level satisfies: market orders
_STALE_SLACK = 32  # dead entries tolerated before compacting a deque or heap


class Fill(NamedTuple):
    """One execution of a taker against one resting order."""

    maker_order_id: int
    maker_owner: int  # account id of the resting order's owner
    price: int  # ticks; always the resting (maker) order's price
    qty: int


# Builds a Fill without the Python-level NamedTuple.__new__ frame (hot path).
_tuple_new = tuple.__new__


class _Level:
    """FIFO queue at one price, with live totals so depth queries are O(1)."""

    __slots__ = ("orders", "qty", "live")

    def __init__(self) -> None:
        self.orders: deque[int] = deque()  # order ids, some maybe cancelled
        self.qty = 0  # live resting quantity
        self.live = 0  # live resting orders


class _Placed:
    """A ladder `replace_valid` placed on an empty book, each order alone at its price, none filled
    at once: what `_renew` needs to place the same ladder again without building it anew."""

    __slots__ = ("orders", "ids", "end", "levels", "sizes", "keys", "bid_qty", "ask_qty")

    def __init__(self, orders: list[tuple[int, int, int]], ids: list[int], levels: list[_Level]) -> None:
        self.orders = orders  # (side, price, qty) as sent
        self.ids = ids  # their order ids, consecutive
        self.end = ids[-1] + 1 if ids else 0  # the book's next id while nothing else has been sent since
        self.levels = levels  # each order's level, in order
        self.sizes = [qty for _, _, qty in orders]
        self.keys = [-side * price for side, price, _ in orders]  # each order's level key (see `OrderBook`)
        self.bid_qty = sum(qty for side, _, qty in orders if side == BUY)
        self.ask_qty = sum(qty for side, _, qty in orders if side == SELL)


class _Side:
    """All resting orders of one side, best level at ``heap[0]``."""

    __slots__ = ("heap", "levels", "qty")

    def __init__(self) -> None:
        self.heap: list[int] = []  # level keys; top is always live
        self.levels: dict[int, _Level] = {}
        self.qty = 0  # live resting quantity on the side


def _integer(name: str, value: object) -> int:
    """``value`` as a Python int, or a ValueError naming ``name``: ints and other integral types
    (numpy's), but not bool, and no float, even a whole one."""
    if type(value) is int:
        return value
    if isinstance(value, Integral) and not isinstance(value, bool):
        return index(value)
    raise ValueError(f"{name} must be an int, got {value!r} ({type(value).__name__})")


def _order(side: object, price: object, qty: object, where: str = "") -> tuple[int, int, int]:
    """The order's ``(side, price, qty)`` as Python ints, or a ValueError naming the bad argument
    (prefixed by ``where``) and its value. Off the fast path: called only when the inline check fails."""
    side = _integer(where + "side", side)
    if side != BUY and side != SELL:
        raise ValueError(f"{where}side must be BUY (1) or SELL (-1), got {side!r}")
    price = _integer(where + "price", price)
    if price < 1:
        raise ValueError(f"{where}price must be at least 1 tick, got {price!r}")
    qty = _integer(where + "qty", qty)
    if qty < 1:
        raise ValueError(f"{where}qty must be at least 1, got {qty!r}")
    return side, price, qty


def _orders(orders: list) -> list[tuple[int, int, int]]:
    """``replace``'s new orders, checked and as Python ints, or a ValueError naming the first bad one."""
    checked = []
    for i, order in enumerate(orders):
        try:
            side, price, qty = order
        except (TypeError, ValueError):
            raise ValueError(f"orders[{i}] must be a (side, price, qty) tuple, got {order!r}") from None
        checked.append(_order(side, price, qty, f"orders[{i}] "))
    return checked


def _order_ids(order_ids: list) -> list[int]:
    """Order ids as Python ints, or a ValueError naming the first that is not an int."""
    return [_integer(f"order_ids[{i}]", order_id) for i, order_id in enumerate(order_ids)]


class OrderBook:
    """Single-instrument limit order book; see the module docstring."""

    def __init__(self) -> None:
        self._sides = {BUY: _Side(), SELL: _Side()}
        # Live resting orders only; the key's sign gives the side (bids < 0).
        self._qty: dict[int, int] = {}
        self._key: dict[int, int] = {}
        self._owner: dict[int, int] = {}
        self._next_id = 1
        self.cancels = 0  # cancel requests received, live or not (the benchmark counts orders)
        self.taken = 0  # quantity filled against resting orders so far, by any marketable order
        self._spare: list[_Level] = []  # empty levels kept for replace() to reuse
        self._placed: _Placed | None = None  # the last ladder placed on an empty book, for `_renew`

    # -- order entry ---------------------------------------------------

    def submit_limit(self, side: int, price: int, qty: int, owner: int) -> tuple[int, list[Fill]]:
        """Match at prices at least as good as ``price`` (best price, then
        oldest first), then rest the remainder at ``price``. Returns
        ``(order_id, fills)``; the id is assigned even if fully filled."""
        if (side is not BUY and side is not SELL) or type(price) is not int or type(qty) is not int or price < 1 or qty < 1:
            side, price, qty = _order(side, price, qty)
        order_id = self._next_id
        self._next_id = order_id + 1
        fills: list[Fill] = []
        opposite = self._sides[-side].heap
        if opposite and opposite[0] <= side * price:  # marketable: match first
            qty = self._match(side, side * price, qty, fills)
            if not qty:
                return order_id, fills
        self._rest(order_id, side, price, qty, owner)
        return order_id, fills

    def submit_ioc(self, side: int, price: int, qty: int, owner: int) -> list[Fill]:
        """Immediate-or-cancel limit: match as submit_limit does, drop the remainder."""
        if (side is not BUY and side is not SELL) or type(price) is not int or type(qty) is not int or price < 1 or qty < 1:
            side, price, qty = _order(side, price, qty)
        fills: list[Fill] = []
        self._match(side, side * price, qty, fills)
        return fills

    def submit_market(self, side: int, qty: int, owner: int) -> list[Fill]:
        """Walk the opposite side at any price until filled or the side is
        empty; drop the remainder."""
        if (side is not BUY and side is not SELL) or type(qty) is not int or qty < 1:
            side, _, qty = _order(side, 1, qty)
        fills: list[Fill] = []
        self._match(side, _NO_LIMIT, qty, fills)
        return fills

    def cancel(self, order_id: int) -> int:
        """Remove a resting order; return the quantity that was still resting
        (0 if unknown, already filled or already cancelled)."""
        if type(order_id) is not int:
            order_id = _integer("order_id", order_id)
        self.cancels += 1
        qty = self._qty.pop(order_id, 0)
        if not qty:
            return 0
        key = self._key.pop(order_id)
        del self._owner[order_id]
        book = self._sides[BUY if key < 0 else SELL]
        level = book.levels[key]
        level.qty -= qty
        level.live -= 1
        book.qty -= qty
        if not level.live:
            self._drop_level(book, key)
        elif len(level.orders) > 2 * level.live + _STALE_SLACK:
            live = self._qty
            level.orders = deque(i for i in level.orders if i in live)
        return qty

    def replace(
        self, order_ids: list[int], orders: list[tuple[int, int, int]], owner: int
    ) -> tuple[list[int], list[Fill]]:
        """Cancel each of ``order_ids``, then submit each ``(side, price, qty)`` of ``orders`` as a
        limit order of ``owner``: a market maker re-sending its ladder. Counts, ids, fills and the
        book's answers are exactly those of the separate ``cancel`` and ``submit_limit`` calls, for
        one call per ladder on the hot path: ``submit_limit``'s body is inlined, and when every
        resting order is cancelled (a maker alone in its book) the book is emptied at once and its
        levels kept for the new orders; when those are the very ladder placed last, still resting
        (a maker refilling after a trade), its levels are refilled in place (`_renew`). Returns the new orders' ids and the fills of any that
        were marketable. All or nothing: every id and new order is checked before the book changes."""
        if type(orders) is not list:
            orders = list(orders)  # read twice below
        checked = True
        try:
            for side, price, qty in orders:
                if (side is not BUY and side is not SELL) or type(price) is not int or type(qty) is not int or price < 1 or qty < 1:
                    checked = False
                    break
        except (TypeError, ValueError):  # not (side, price, qty) triples
            checked = False
        if not checked:
            orders = _orders(orders)  # numpy ints made Python ints, or a ValueError naming the bad order
        for order_id in order_ids:
            if type(order_id) is not int:
                order_ids = _order_ids(order_ids)
                break
        return self.replace_valid(order_ids, orders, owner)

    def replace_valid(
        self, order_ids: list[int], orders: list[tuple[int, int, int]], owner: int
    ) -> tuple[list[int], list[Fill]]:
        """`replace` for arguments already known to meet its contract: `order_ids` a list of ints,
        `orders` a list of (BUY or SELL, price, qty) with int price and qty of at least 1. A market
        maker's ladder is built so (`sim.market.market_maker`, asserted in its tests) and skips the
        checks on the hot path; anything else calls `replace`."""
        qtys, keys, owners, sides, spare = self._qty, self._key, self._owner, self._sides, self._spare
        placed = self._placed
        if (placed is not None and self._next_id == placed.end and len(qtys) == len(placed.ids)
                and order_ids == placed.ids and orders == placed.orders):
            return self._renew(placed, owner), []
        emptied = len(qtys.keys() & order_ids) == len(qtys)  # every resting order goes
        if emptied:
            self.cancels += len(order_ids)
            self._clear()
        else:
            for order_id in order_ids:
                self.cancel(order_id)
        ids: list[int] = []
        fills: list[Fill] = []
        new_levels: list[_Level] = []  # each order's own new level, while every order has one
        for side, price, qty in orders:
            order_id = self._next_id
            self._next_id = order_id + 1
            ids.append(order_id)
            opposite = sides[-side].heap
            if opposite and opposite[0] <= side * price:  # marketable: match first
                qty = self._match(side, side * price, qty, fills)
                if not qty:
                    continue
            book = sides[side]
            key = -side * price
            level = book.levels.get(key)
            if level is None:
                level = book.levels[key] = spare.pop() if spare else _Level()
                heappush(book.heap, key)
                new_levels.append(level)
            level.orders.append(order_id)
            level.qty += qty
            level.live += 1
            book.qty += qty
            qtys[order_id] = qty
            keys[order_id] = key
            owners[order_id] = owner
        placed = emptied and not fills and len(new_levels) == len(ids)
        self._placed = _Placed(list(orders), ids, new_levels) if placed else None
        return ids, fills

    def _renew(self, placed: _Placed, owner: int) -> list[int]:
        """Cancel the ladder `placed` and send it again, as `replace_valid` would, without rebuilding the book.

        `replace_valid` calls this only when the book holds exactly that ladder's orders, each still
        resting (in part, perhaps: a taker took from it), and nothing else has been sent since
        (the next id is the one after the ladder's): its key is `placed`'s ids, orders and `end`,
        and the book's count of live orders. Then every level the ladder made is still there,
        holding just its order, and no other level or heap entry exists; the same orders sent again
        would meet no resting order (the book is emptied first, as when the ladder was placed)
        and make the same levels. So each level's one order id becomes the new one and its
        quantity the order's full size: the book, ids, counts and answers are those of cancelling
        and sending each order. A market maker refilling its book after each trade with an
        unchanged ladder (most trades) takes this path.
        """
        first = self._next_id
        end = first + len(placed.ids)
        ids = list(range(first, end))
        self._next_id = placed.end = end
        self.cancels += len(ids)
        qtys, keys, owners = self._qty, self._key, self._owner
        qtys.clear()
        keys.clear()
        owners.clear()
        for level, order_id, qty, key in zip(placed.levels, ids, placed.sizes, placed.keys):
            level.orders[0] = order_id  # its only entry: the order it held
            level.qty = qty
            qtys[order_id] = qty
            keys[order_id] = key
            owners[order_id] = owner
        self._sides[BUY].qty = placed.bid_qty
        self._sides[SELL].qty = placed.ask_qty
        placed.ids = ids
        return ids

    # -- queries -------------------------------------------------------

    def remaining(self, order_id: int) -> int:
        """Resting quantity of an order, 0 if it is not resting."""
        return self._qty.get(order_id, 0)

    def remaining_of(self, order_ids: list[int]) -> list[int | None]:
        """Resting quantity of each order, None for one not resting (one C-level pass, for requotes)."""
        return list(map(self._qty.get, order_ids))

    def top(self) -> tuple[int | None, int | None, int, int]:
        """(best bid, best ask, quantity at the best bid, at the best ask), as one query for quote samples."""
        bids, asks = self._sides[BUY], self._sides[SELL]
        bid = ask = None
        bid_qty = ask_qty = 0
        if bids.heap:
            key = bids.heap[0]
            bid, bid_qty = -key, bids.levels[key].qty
        if asks.heap:
            ask = asks.heap[0]
            ask_qty = asks.levels[ask].qty
        return bid, ask, bid_qty, ask_qty

    def two_sided(self) -> bool:
        """Are there both a bid and an ask (one query for a maker checking after each trade)?"""
        return bool(self._sides[BUY].heap and self._sides[SELL].heap)

    def best_bid(self) -> int | None:
        heap = self._sides[BUY].heap
        return -heap[0] if heap else None

    def best_ask(self) -> int | None:
        heap = self._sides[SELL].heap
        return heap[0] if heap else None

    def depth_at_best(self, side: int) -> int:
        """Total resting quantity at the best price of ``side``, 0 if empty."""
        book = self._side(side)
        return book.levels[book.heap[0]].qty if book.heap else 0

    def depth(self, side: int, levels: int) -> list[tuple[int, int]]:
        """Up to ``levels`` ``(price, total qty)`` pairs of ``side``, best first."""
        if levels < 0:
            raise ValueError(f"levels must be >= 0, got {levels!r}")
        book = self._side(side)
        return [(-side * key, book.levels[key].qty) for key in nsmallest(levels, book.levels)]

    def limit_orders(self) -> int:
        """Limit orders received so far (each got an id, whether it rested or filled at once)."""
        return self._next_id - 1

    def resting_orders(self) -> int:
        """Number of live resting orders on both sides."""
        return len(self._qty)

    def resting_qty(self, side: int) -> int:
        """Total live resting quantity on ``side``."""
        return self._side(side).qty

    # -- internals -----------------------------------------------------

    def _side(self, side: int) -> _Side:
        book = self._sides.get(side)
        if book is None:
            raise ValueError(f"side must be BUY (1) or SELL (-1), got {side!r}")
        return book

    def _match(self, side: int, key_limit: int, qty: int, fills: list[Fill]) -> int:
        """Fill up to ``qty`` against the side opposite ``side`` at levels with
        key <= ``key_limit``, appending to ``fills``; return the unfilled qty."""
        book = self._sides[-side]
        heap = book.heap
        levels = book.levels
        qtys, keys, owners = self._qty, self._key, self._owner
        append = fills.append
        start = qty
        while qty and heap:
            key = heap[0]
            if key > key_limit:
                break
            price = side * key
            level = levels[key]
            queue = level.orders
            before = qty
            while qty and level.live:
                order_id = queue[0]
                resting = qtys.get(order_id)
                if resting is None:  # cancelled earlier
                    queue.popleft()
                    continue
                if resting <= qty:
                    queue.popleft()
                    del qtys[order_id], keys[order_id]
                    owner = owners.pop(order_id)
                    level.live -= 1
                    trade = resting
                else:
                    qtys[order_id] = resting - qty
                    owner = owners[order_id]
                    trade = qty
                append(_tuple_new(Fill, (order_id, owner, price, trade)))
                qty -= trade
            level.qty -= before - qty
            if not level.live:
                self._drop_level(book, key)
        filled = start - qty
        book.qty -= filled
        self.taken += filled
        return qty

    def _rest(self, order_id: int, side: int, price: int, qty: int, owner: int) -> None:
        """Queue a remainder at the back of its price level."""
        book = self._sides[side]
        key = -side * price
        level = book.levels.get(key)
        if level is None:
            level = book.levels[key] = _Level()
            heappush(book.heap, key)
        level.orders.append(order_id)
        level.qty += qty
        level.live += 1
        book.qty += qty
        self._qty[order_id] = qty
        self._key[order_id] = key
        self._owner[order_id] = owner

    def _clear(self) -> None:
        """Forget every resting order. The levels that held them become replace's spares, in place
        of any left from before, so there are never more spares than levels the book once held."""
        self._qty.clear()
        self._key.clear()
        self._owner.clear()
        spare = self._spare
        spare.clear()
        for book in self._sides.values():
            for level in book.levels.values():
                level.orders.clear()
                level.qty = level.live = 0
            spare += book.levels.values()
            book.levels.clear()
            book.heap.clear()
            book.qty = 0

    @staticmethod
    def _drop_level(book: _Side, key: int) -> None:
        """Forget an empty level, keeping the heap top live and the heap small."""
        levels = book.levels
        del levels[key]
        heap = book.heap
        if heap[0] == key:
            while heap and heap[0] not in levels:
                heappop(heap)
        elif len(heap) > 2 * len(levels) + _STALE_SLACK:
            heap[:] = levels  # in place: _match holds a reference to the heap
            heapify(heap)
