"""A market maker: a ladder of quotes around fair value in one listing, skewed and capped by inventory.

A maker may also learn from order flow (`flow_half_life_minutes`): it widens its half-spread,
moves its mid towards the recent takers' side and quotes smaller sizes, each in proportion to the
flow's imbalance (`sim.market.order_flow`), so informed takers make its spreads and depth
outcomes, not inputs.

Its half-spread covers its own per-side costs (fees after any rebate, and duty unless policy
exempts it; not where its quotes stand for investors' limit orders, `prices_own_charges`) plus a
base margin for inventory risk, plus, while an ETF's underlying is closed, a
margin for the move since its last close that the stale NAV does not show (`FairValue.margin`);
when that half-spread is at most half a tick, it quotes one tick wide (the tick, not its costs,
sets the spread: a tick-constrained market); its quote mid leans against its inventory so that
flow brings it back; it never quotes more than its inventory limit, its free units or its free
cash allow. It requotes on a fixed clock while the venue is open, and at once when a side of its
ladder is used up.
"""

from __future__ import annotations

from itertools import groupby
from math import ceil, floor, inf

from sim.market.calendar import MINUTES_PER_DAY
from sim.market.inventory import inventory_lean
from sim.market.ledger import Ledger
from sim.market.order_flow import OrderFlow
from sim.market.orderbook import BUY, SELL, Fill, OrderBook
from sim.market.payers import Payer
from sim.market.providers import LiquidityProvider
from sim.market.specs import MarketMakerSpec
from sim.market.venue import Listing
from sim.recorder import Recorder


class MarketMaker(LiquidityProvider):
    """Quotes in one listing for one account."""

    payer = Payer.MARKET_MAKER
    spec_key = "market_maker"
    order_book = True

    def __init__(
        self, account: int, listing: Listing, params: MarketMakerSpec, ledger: Ledger, recorder: Recorder
    ) -> None:
        self.account = account
        self.listing = listing
        self.book = listing.book = OrderBook()
        self.params = params
        self.ledger = ledger
        self.recorder = recorder
        self.target_units = params.initial_units
        self._orders: list[int] = []
        self._quoted: list[tuple[int, int, int]] = []
        self._sizes: list[int] = []  # of the resting orders when sent: all still resting in full = intact
        self._inputs: tuple | None = None  # `ladder_key` of the quoted ladder: what it was priced from
        self._untouched: tuple[int, int] | None = None  # the book's (cancels, taken) while the ladder is known intact
        step = params.level_step_bps / 10_000.0
        self._level_spreads = [level * step for level in range(params.levels)]  # beyond the first level's
        # the flow it learns from, if it does (`flow_half_life_minutes` > 0), and the time of the taker it serves
        self.flow = (OrderFlow(params.flow_half_life_minutes / MINUTES_PER_DAY, params.quote_size_units)
                     if params.flow_half_life_minutes else None)
        self._taker_time = 0.0

    def touch(self, taker_side: int, quantity: int, fair: float, day: int) -> int | None:
        """The best opposite price on the book (the ladder's depth is left to the limit order)."""
        return self.book.best_ask() if taker_side == BUY else self.book.best_bid()

    def fills(self, taker_side: int, limit_ticks: int, quantity: int, taker: int, fair: float, day: int) -> list[Fill]:
        fills = self.book.submit_ioc(taker_side, limit_ticks, quantity, taker)
        if self.flow is not None and fills:
            self.flow.add(self._taker_time, taker_side * sum(fill.qty for fill in fills))
        return fills

    @classmethod
    def clocks(cls, env, providers: list[MarketMaker], horizon_days: int) -> list:
        """One requote process per group of makers sharing a clock."""
        return [requote_on_clock(env, makers, horizon_days) for makers in sharing_clocks(providers)]

    def watch(self, t: float, fair: float) -> None:
        """Reprice before a taker trades against quotes priced off an earlier fair value.

        The maker watches the underlying. Its clock falls on the value grid, but a taker acting at
        the same instant (an authorised participant checking on the grid, its time a rounding away
        from the maker's tick) could otherwise trade against the old quotes: a pick-off no real
        maker leaves open, which made up most of the platform's participant-versus-maker churn.
        """
        self._taker_time = t
        if self._inputs is not None and fair != self._inputs[1]:
            self.requote(t, sample=False)

    def after_trade(self, t: float) -> None:
        """Refill the ladder when a taker has used up one side of it, or after every trade when the
        book refills at once (`refill_after_each_trade`)."""
        if self.params.refill_after_each_trade or not self.listing.book.two_sided():
            self.requote(t, sample=False)

    def withdraw(self) -> None:
        self.listing.book.replace_valid(self._orders, [], self.account)
        self._orders = []
        self._quoted = []
        self._sizes = []
        self._inputs = None
        self._untouched = None

    def requote(self, t: float, sample: bool) -> None:
        """Quote the ladder priced off the current fair value and inventory.

        When the resting ladder is already that ladder, untouched, it stays: cancelling and
        re-sending the same orders would change nothing but cost time on the hot path. The
        ladder depends only on the day, the fair value, the maker's inventory (and target) and cash, so
        while those are unchanged (most clock ticks: fair values move every value step) it is
        not even recomputed. Nothing but a cancel or a fill takes resting quantity, so while the
        book counts neither since the ladder was last seen intact, it is not even looked up.
        """
        listing = self.listing
        if not listing.active:
            self.withdraw()
            return
        book, account = listing.book, self.account
        inputs = self.ladder_key(t)
        mark = (book.cancels, book.taken)  # the key of `_untouched`: only a cancel or a fill takes resting quantity
        intact = mark == self._untouched or book.remaining_of(self._orders) == self._sizes
        if not (intact and inputs == self._inputs):
            ladder = self._ladder(*inputs)
            if not (intact and ladder == self._quoted):
                self._orders, fills = book.replace_valid(self._orders, ladder, account)  # ints by construction
                self._quoted = ladder
                self._sizes = [size for _, _, size in ladder]
                intact = not fills  # orders that met no resting order rest in full
                mark = (book.cancels, book.taken)
            self._inputs = inputs
        self._untouched = mark if intact else None
        if sample:
            self._record_quotes(t, inputs[0], inputs[1])

    def ladder_key(self, t: float) -> tuple:
        """Everything `_ladder` reads that can change, as its arguments: the day (levers change by
        day), the fair value, its off-hours margin, the target inventory and the maker's standing
        (position, free units, free cash), and for a maker that learns from flow the flow's imbalance.
        Equal keys give equal ladders."""
        listing = self.listing
        value = listing.value
        key = (int(t), value.at(t), value.margin(t), self.target_units) + self.ledger.standing(listing.asset, self.account)
        return key if self.flow is None else key + (self.flow.imbalance(t),)

    def _ladder(
        self, day: int, fair: float, margin: float, target: int, position: int, free_units: int, cash_room: int,
        imbalance: float = 0.0,
    ) -> list[tuple[int, int, int]]:
        """(side, price in ticks, size) of each order the maker wants resting, best levels first.

        Each level is one tick beyond the previous one at least, and the first ask above the first bid.
        """
        listing, params = self.listing, self.params
        limit, quote_size = params.inventory_limit_units, params.quote_size_units
        if imbalance and params.flow_size_cut:  # one-sided flow: it risks less against it (depth is an outcome)
            quote_size = max(1, round(quote_size * (1.0 - params.flow_size_cut * abs(imbalance))))
        excess = position - target
        lean = inventory_lean(excess, limit)
        mid = listing.ticks(fair) * (1.0 - lean * params.skew_bps_at_limit / 10_000.0
                                     + imbalance * params.flow_lean_bps / 10_000.0)
        cost_rate = listing.costs.rate_for(Payer.MARKET_MAKER, day)
        tick_cents, with_costs = listing.tick_cents, 1.0 + cost_rate
        risk = (params.base_half_spread_bps + params.inventory_spread_bps_at_limit * abs(lean)
                + params.adverse_selection_bps * abs(imbalance))  # one-sided flow: someone may know more
        # margin: for the move not seen while the underlying is closed
        half = risk / 10_000.0 + (cost_rate if params.prices_own_charges else 0.0) + margin
        buy_room = limit - excess
        sell_room = min(limit + excess, free_units)
        ladder = []
        bid, ask = inf, -1  # before the first level: no bound on the bid, asks at least 0
        # Sizes are capped by comparisons rather than min(): this loop runs for every ladder priced.
        # Tick-constrained: when the half-spread it needs is at most half a tick, the maker quotes the
        # one-tick pair around its mid, earning half a tick a side on average (as on HKEX's liquid ETFs).
        one_tick = mid * half <= 0.5
        for spread in self._level_spreads:
            offset = half + spread
            below, above = bid - 1, ask + 1
            if one_tick:
                bid = floor(mid)
                ask, one_tick = bid + 1, False
            else:
                bid, ask = floor(mid * (1.0 - offset)), ceil(mid * (1.0 + offset))
            if bid > below:
                bid = below
            if ask < above:
                ask = above
            if ask <= bid:
                ask = bid + 1
            if bid >= 1:
                unit_cost = bid * tick_cents * with_costs + 1.0
                size = int(cash_room // unit_cost)
                if size > buy_room:
                    size = buy_room
                if size > quote_size:
                    size = quote_size
                if size > 0:
                    ladder.append((BUY, bid, size))
                    buy_room -= size
                    cash_room -= size * unit_cost
            size = sell_room if sell_room < quote_size else quote_size
            if size > 0:
                ladder.append((SELL, ask, size))
                sell_room -= size
        return ladder

    def _record_quotes(self, t: float, day: int, fair: float) -> None:
        tick = self.listing.tick_cents
        bid, ask, bid_depth, ask_depth = self.listing.book.top()
        self.recorder.quotes.add(
            t, day, self.listing.index,
            -1 if bid is None else bid * tick, -1 if ask is None else ask * tick, bid_depth, ask_depth, fair,
        )


def sharing_clocks(makers: list[MarketMaker]) -> list[list[MarketMaker]]:
    """Consecutive makers that requote on the same clock (one venue, one interval), in their order."""
    return [list(group) for _, group in groupby(makers, lambda m: (m.listing.venue, m.params.requote_minutes))]


def requote_on_clock(env, makers: list[MarketMaker], horizon_days: int):
    """Requote every `requote_minutes` within each session; withdraw quotes at each close.

    Makers sharing a clock share this process: at each tick they requote in their order, just as
    separate processes started in that order would (SimPy runs events due at the same time in the
    order they were scheduled, and nothing is scheduled between the makers' ticks), for one event
    a tick instead of one per maker.
    """
    first = makers[0]
    step = first.params.requote_minutes / MINUTES_PER_DAY
    for day in range(horizon_days):
        for open_at, close_at in first.listing.venue.sessions:
            n_quotes = ceil((close_at - open_at) / step)
            for k in range(n_quotes):
                yield env.timeout(day + open_at + k * step - env.now)
                now = env.now
                for maker in makers:
                    maker.requote(now, sample=True)
            yield env.timeout(day + close_at - env.now)
            for maker in makers:
                maker.withdraw()
