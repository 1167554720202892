"""Fair values of every instrument along the run, drawn once and looked up by time.

An ETF's fair value is its NAV: the underlying basket's geometric random walk less the
management fee accrued over calendar time. The basket moves only while its home exchange trades
(HKEX by default): off hours everyone sees the NAV of the last close, and liquidity providers
add a margin for the move not yet seen, which shows as a gap at the next open. A Hong Kong share's price is the same walk on HKEX's
clock, with no fee; an ETF whose basket is such a share moves on that share's shocks, so its NAV
is the share's price scaled to the ETF's initial value, less the fee. A commodity
token's is its backing: the spot price's geometric random walk times the commodity held per
token, less the custody fee accrued alike. A bond's fair value is its clean price per HK$100
of face at its Vasicek yield and remaining maturity. Each instrument's shocks come from its own
named stream, mixed by the scenario's correlations (with none, each instrument keeps exactly its
own stream, so adding an instrument never changes another's path).
"""

from __future__ import annotations

import numpy as np

from sim.market.calendar import DAYS_PER_YEAR, BusinessCalendar
from sim.market.random_streams import stream
from sim.market.value_processes import (
    bond_price, correlation_factor, gbm_on_clock, gbm_path, session_clock, vasicek_path,
)
from sim.market.specs import (
    BackingValueSpec, BondValueSpec, EtfValueSpec, InstrumentSpec, ProgrammeSpec, YieldSpec,
)

TRADING_DAYS_PER_YEAR = 250  # assumption: business days in a Hong Kong year, scales annual rates
# A time this close below a grid point, in steps, is on it: clock times summed as day + open + k x step
# land a rounding either side of the grid, and a tick due on a grid point must see that point's value.
ON_GRID = 1e-6


class FairValue:
    """Fair value per unit, in HKD, at any time of the run (constant between grid steps), and the
    off-hours margin liquidity providers add while the value they see is stale."""

    def __init__(self, values: np.ndarray, steps_per_day: int, margins: np.ndarray | None = None) -> None:
        self.steps_per_day = steps_per_day
        self._values: list[float] = values.tolist()
        self._last = len(self._values) - 1
        self._margins: list[float] | None = None if margins is None else margins.tolist()

    def at(self, t: float) -> float:
        """Value at time t (business days); after the drawn horizon it stays at its last value."""
        step = int(t * self.steps_per_day + ON_GRID)
        return self._values[step if step < self._last else self._last]

    def at_times(self, times: np.ndarray) -> np.ndarray:
        """`at` for many times at once (numpy), the same floats."""
        steps = (np.asarray(times, dtype=float) * self.steps_per_day + ON_GRID).astype(np.int64)
        return np.asarray(self._values)[np.minimum(steps, self._last)]

    def margin(self, t: float) -> float:
        """Extra half-spread and arbitrage band at time t, a fraction of value: 0 while the value is
        seen (or for a value that never goes stale), and off hours a multiple of the standard
        deviation of the move not yet seen since the underlying's last close."""
        if self._margins is None:
            return 0.0
        step = int(t * self.steps_per_day + ON_GRID)
        return self._margins[step if step < self._last else self._last]

    def with_margin(self, extra: np.ndarray) -> FairValue:
        """The same values with `extra` (a fraction of value, per step) added to the margin: what a liquidity
        provider quoting in a settlement asset adds for converting it (`sim.market.money_path`)."""
        margins = np.asarray(self._margins if self._margins is not None else np.zeros(len(self._values))) + extra
        return FairValue(np.asarray(self._values), self.steps_per_day, margins)

    def reprice(self, values: np.ndarray) -> None:
        """Replace the path (a new bond's value is known only once its coupon is set at pricing)."""
        self._values = values.tolist()
        self._last = len(self._values) - 1


def programme_yields(programmes: dict[str, ProgrammeSpec], horizon_days: int, steps: int, seed: int) -> dict[str, np.ndarray]:
    """The market yield at each programme's tenor along the run, one named stream per programme."""
    n_steps = horizon_days * steps
    dt_years = 1.0 / (TRADING_DAYS_PER_YEAR * steps)
    return {
        name: _yield_path(programme.yield_process, dt_years, stream(seed, f"value:{name}").standard_normal(n_steps))
        for name, programme in programmes.items()
    }


def _yield_path(process: YieldSpec, dt_years: float, shocks: np.ndarray) -> np.ndarray:
    return vasicek_path(
        process.initial_yield, process.long_run_yield, process.reversion_per_year,
        process.volatility_per_year, dt_years, shocks,
    )


def fair_values(instruments: dict[str, InstrumentSpec], correlation: np.ndarray | None, horizon_days: int,
                steps: int, calendar: BusinessCalendar, seed: int) -> dict[str, FairValue]:
    """One FairValue per instrument, by name; `correlation` is the instruments' correlation matrix
    in their order (None: independent)."""
    n_steps = horizon_days * steps
    names = list(instruments)
    shocks = np.column_stack([stream(seed, f"value:{name}").standard_normal(n_steps) for name in names])
    if correlation is not None:
        shocks = shocks @ correlation_factor(correlation).T
    grid_years = calendar_years(calendar, horizon_days, steps)
    gaps = gap_days(calendar, horizon_days)
    dt_years = 1.0 / (TRADING_DAYS_PER_YEAR * steps)
    values = {}
    for column, name in enumerate(names):
        value = instruments[name].value
        if isinstance(value, EtfValueSpec):  # an ETF whose basket is a share of the run moves on that share's shocks
            walk = column if value.basket is None else names.index(value.basket)
            values[name] = _nav(value, shocks[:, walk], steps, grid_years, gaps)
        elif isinstance(value, BackingValueSpec):
            values[name] = FairValue(_backing_path(value, shocks[:, column], dt_years, grid_years), steps)
        else:
            values[name] = FairValue(_bond_path(value, shocks[:, column], dt_years, grid_years, calendar), steps)
    return values


def _nav(etf: EtfValueSpec, shocks: np.ndarray, steps: int, grid_years: np.ndarray, gaps: np.ndarray) -> FairValue:
    """The NAV as seen: the basket on its home exchange's clock less the fee, held at the last
    value seen while that exchange is closed, with the margin for what may have moved since."""
    variance_days, last_seen, unseen_days = session_clock(etf.sessions_hours, etf.overnight_variance_share, steps, gaps)
    basket = gbm_on_clock(etf.initial_value_hkd, etf.drift_per_year, etf.volatility_per_year,
                          variance_days / TRADING_DAYS_PER_YEAR, shocks)
    nav = basket * np.exp(-etf.management_fee_bps_per_year / 10_000.0 * grid_years)
    unseen_sd = etf.volatility_per_year * np.sqrt(unseen_days / TRADING_DAYS_PER_YEAR)
    return FairValue(nav[last_seen], steps, etf.off_hours_margin_per_sd * unseen_sd)


def _backing_path(token: BackingValueSpec, shocks: np.ndarray, dt_years: float, grid_years: np.ndarray) -> np.ndarray:
    prices = gbm_path(token.initial_price_hkd, token.drift_per_year, token.volatility_per_year, dt_years, shocks)
    return prices * token.backing_per_token * np.exp(-token.custody_fee_bps_per_year / 10_000.0 * grid_years)


def _bond_path(
    bond: BondValueSpec, shocks: np.ndarray, dt_years: float, grid_years: np.ndarray, calendar: BusinessCalendar
) -> np.ndarray:
    yields = _yield_path(bond.yield_process, dt_years, shocks)
    years_at_start = (calendar.date_of(0) - bond.issue_date).days / DAYS_PER_YEAR
    remaining = bond.tenor_years - years_at_start - grid_years
    return bond_price(yields, bond.coupon_rate, bond.coupon_frequency_per_year, remaining)


def gap_days(calendar: BusinessCalendar, days: int) -> np.ndarray:
    """Calendar days from the business day before each of days 1 .. `days` to that day (3 on a Monday)."""
    return np.array([calendar.calendar_days_before(day) - calendar.calendar_days_before(day - 1)
                     for day in range(1, days + 1)], dtype=float)


def calendar_years(calendar: BusinessCalendar, days: int, steps: int) -> np.ndarray:
    """Calendar years since day 0 at each grid point (a business day counts as one calendar day)."""
    day_starts = np.array([calendar.calendar_days_before(day) for day in range(days + 1)], dtype=float)
    within = np.arange(steps) / steps
    grid = (day_starts[:-1, None] + within[None, :]).ravel()
    return np.append(grid, day_starts[-1]) / DAYS_PER_YEAR


