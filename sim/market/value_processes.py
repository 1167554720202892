"""Fundamental value processes for the simulated assets, drawn once per run on a fixed time grid.

An ETF's underlying basket follows a geometric random walk on the clock of its home exchange
(`session_clock`: it moves while that exchange trades, and what accrues while it is closed shows
as a gap at the next open); a bond's value follows its yield, a
mean-reverting (Vasicek) process, through the price of its remaining coupons and principal. Both
are exact discretisations, so the statistics do not depend on the time step. The standard-normal
shocks are passed in by the caller, who thereby owns the random streams (common random numbers
across scenarios) and the correlation between assets (`correlated_shocks`). Whole paths are built
with vectorised numpy, so the event loop only looks values up.

Bond prices follow the street convention: the dirty (invoice) price discounts every remaining
cash flow at the yield compounded `frequency` times a year, with a fractional period to the next
coupon; the quoted clean price is the dirty price less linearly accrued interest, so it moves
smoothly across coupon dates while the dirty price drops by the coupon paid.
"""

from __future__ import annotations

import numpy as np

ALLOWED_FREQUENCIES = (1, 2, 4, 12)
PSD_TOLERANCE = 1e-10  # smallest eigenvalue accepted for a correlation matrix, and the jitter floor
COUPON_DATE_SNAP = 1e-9  # periods: a maturity this close to a coupon date is taken to be on it
MAX_GROWTH_EXPONENT = 30.0  # bounds e^(k dt i) in the blocked Ornstein-Uhlenbeck recursion


# ---------------------------------------------------------------------------------------------
# Shocks
# ---------------------------------------------------------------------------------------------


def correlation_factor(correlation: np.ndarray) -> np.ndarray:
    """Lower-triangular L with L L^T equal to the validated correlation matrix.

    A singular (positive semi-definite) matrix gets a jitter of at most 2e-10 on the diagonal
    so that the Cholesky factorisation exists.
    """
    corr = np.asarray(correlation, dtype=float)
    if corr.ndim != 2 or corr.shape[0] != corr.shape[1] or corr.shape[0] == 0:
        raise ValueError(f"correlation must be a non-empty square matrix, got shape {corr.shape}")
    if not np.all(np.isfinite(corr)):
        raise ValueError("correlation matrix has non-finite entries")
    if not np.allclose(corr, corr.T, rtol=0.0, atol=1e-12):
        raise ValueError("correlation matrix is not symmetric")
    if not np.allclose(np.diag(corr), 1.0, rtol=0.0, atol=1e-12):
        raise ValueError(f"correlation matrix diagonal must be all 1, got {np.diag(corr).tolist()}")
    if np.any(np.abs(corr) > 1.0):
        raise ValueError("correlation matrix has entries outside [-1, 1]")
    min_eigenvalue = float(np.linalg.eigvalsh(corr).min())
    if min_eigenvalue < -PSD_TOLERANCE:
        raise ValueError(
            f"correlation matrix is not positive semi-definite (smallest eigenvalue {min_eigenvalue:.3g})"
        )
    jitter = max(0.0, PSD_TOLERANCE - min_eigenvalue)
    return np.linalg.cholesky(corr + jitter * np.eye(len(corr)))


def correlated_shocks(rng: np.random.Generator, n_steps: int, correlation: np.ndarray) -> np.ndarray:
    """(n_steps, k) standard normals whose columns have the given k-by-k correlation (Cholesky)."""
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    factor = correlation_factor(correlation)
    return rng.standard_normal((n_steps, len(factor))) @ factor.T


# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------


def _check_path_inputs(dt_years: float, volatility_per_year: float, shocks: np.ndarray) -> np.ndarray:
    """Validate the grid and volatility; return the shocks as a float array (time on axis 0)."""
    if not dt_years > 0:
        raise ValueError(f"dt_years must be > 0, got {dt_years}")
    if not volatility_per_year >= 0:
        raise ValueError(f"volatility_per_year must be >= 0, got {volatility_per_year}")
    z = np.asarray(shocks, dtype=float)
    if z.ndim == 0:
        raise ValueError("shocks must have a time axis (axis 0)")
    return z


def gbm_path(
    initial: float, drift_per_year: float, volatility_per_year: float, dt_years: float, shocks: np.ndarray
) -> np.ndarray:
    """Geometric random walk with exact log-normal steps, starting at `initial`.

    Log increment (mu - sigma^2/2) dt + sigma sqrt(dt) z per shock z; the result has
    len(shocks) + 1 rows, and extra trailing shock axes give independent paths side by side.
    """
    z = _check_path_inputs(dt_years, volatility_per_year, shocks)
    if not initial > 0:
        raise ValueError(f"initial value must be > 0, got {initial}")
    drift = (drift_per_year - 0.5 * volatility_per_year**2) * dt_years
    increments = drift + volatility_per_year * np.sqrt(dt_years) * z
    log_path = np.concatenate([np.zeros((1, *z.shape[1:])), np.cumsum(increments, axis=0)])
    return initial * np.exp(log_path)


def gbm_on_clock(
    initial: float, drift_per_year: float, volatility_per_year: float, step_years: np.ndarray, shocks: np.ndarray
) -> np.ndarray:
    """Geometric random walk whose i-th step lasts `step_years[i]` years of variance time (>= 0).

    As `gbm_path`, but each step has its own length, so a step may carry a whole closure's
    variance (a gap at the open) or none (the home exchange is closed). len(shocks) + 1 rows.
    """
    lengths = np.asarray(step_years, dtype=float)
    z = _check_path_inputs(1.0, volatility_per_year, shocks)
    if not initial > 0:
        raise ValueError(f"initial value must be > 0, got {initial}")
    if lengths.shape != z.shape[:1] or np.any(lengths < 0):
        raise ValueError("step_years must give one length >= 0 per shock")
    increments = (drift_per_year - 0.5 * volatility_per_year**2) * lengths + volatility_per_year * np.sqrt(lengths) * z
    return initial * np.exp(np.concatenate([np.zeros(1), np.cumsum(increments)]))


def session_clock(
    sessions_hours: tuple[tuple[float, float], ...], overnight_variance_share: float, steps: int, gap_days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The variance clock of an underlying that moves only while its home exchange trades.

    Grid point j is the time j / steps (business days); step i runs from point i to point i + 1.
    `gap_days[d - 1]` is the number of calendar days from the business day before day d to day d
    (1 on an ordinary weekday, 3 on a Monday), for days 1 .. n_days. A business day's
    variance is one day's: the share 1 - `overnight_variance_share` of it accrues evenly over the
    session hours, the rest evenly over the closed hours of an ordinary day (lunch and overnight),
    and a closure longer than usual (a weekend, a holiday) accrues at that same rate per hour.
    A point is observed when its time of day lies within a session (its ends included); the
    value seen at any other point is the value at the last observed point, so what accrued while
    closed appears as a gap at the next open. With sessions covering the whole day, every point
    is observed and the variance accrues evenly, as for a basket that never closes.

    Returns (variance per step, business days of variance; index of the last observed point at
    each point; variance not yet observed at each point, business days of variance).
    """
    n_days = len(gap_days)
    hours = 24.0 / steps
    starts = np.arange(steps) * hours
    overlap = np.zeros(steps)  # session hours within each step of a day
    observed = np.zeros(steps, dtype=bool)  # points of a day at a time within a session
    for open_hour, close_hour in sessions_hours:
        overlap += np.clip(np.minimum(close_hour, starts + hours) - np.maximum(open_hour, starts), 0.0, None)
        observed |= (open_hour <= starts) & (starts <= close_hour)
    session_hours = float(sum(close - open_ for open_, close in sessions_hours))
    closed_hours = 24.0 - session_hours
    share = overnight_variance_share if closed_hours > 1e-9 else 0.0
    per_closed_hour = share / closed_hours if share > 0.0 else 0.0
    variance = np.tile((1.0 - share) * overlap / session_hours + per_closed_hour * (hours - overlap), n_days)
    # the step into a day's first point also spans the calendar days since the business day before
    variance[steps - 1 :: steps] += per_closed_hour * 24.0 * (np.asarray(gap_days, dtype=float) - 1.0)
    seen = np.append(np.tile(observed, n_days), observed[0])
    seen[0] = True  # the run starts from a known value
    points = np.arange(len(seen))
    last_seen = np.maximum.accumulate(np.where(seen, points, 0))
    elapsed = np.concatenate([np.zeros(1), np.cumsum(variance)])
    return variance, last_seen, elapsed - elapsed[last_seen]


def _ar1_path(start: float, decay_per_step: float, innovations: np.ndarray) -> np.ndarray:
    """x_0 = start, x_{i+1} = e^{-decay} x_i + innovations[i], without a Python loop per step.

    Uses x_i = e^{-decay i} (x_0 + sum_{s<=i} e^{decay s} e_s), in blocks short enough that the
    growth factors e^{decay s} stay far from overflow and loss of precision.
    """
    n = len(innovations)
    if decay_per_step * n <= MAX_GROWTH_EXPONENT:
        block = max(1, n)
    else:
        block = max(1, int(MAX_GROWTH_EXPONENT / decay_per_step))
    path = np.empty((n + 1, *innovations.shape[1:]))
    path[0] = start
    steps = np.arange(1, block + 1, dtype=float).reshape((-1,) + (1,) * (innovations.ndim - 1))
    growth = np.exp(decay_per_step * steps)
    for begin in range(0, n, block):
        chunk = innovations[begin : begin + block]
        g = growth[: len(chunk)]
        path[begin + 1 : begin + 1 + len(chunk)] = (path[begin] + np.cumsum(chunk * g, axis=0)) / g
    return path


def vasicek_path(
    initial_yield: float,
    long_run_yield: float,
    reversion_per_year: float,
    volatility_per_year: float,
    dt_years: float,
    shocks: np.ndarray,
) -> np.ndarray:
    """Mean-reverting yield (Vasicek / Ornstein-Uhlenbeck) with exact Gaussian steps.

    y' = theta + (y - theta) e^{-k dt} + sigma sqrt((1 - e^{-2 k dt}) / (2k)) z; with k == 0 it is
    arithmetic Brownian motion (step sd sigma sqrt(dt)). The result has len(shocks) + 1 rows.
    Yields are Gaussian and may go negative; bond pricing accepts them while 1 + y/f > 0.
    """
    z = _check_path_inputs(dt_years, volatility_per_year, shocks)
    if not reversion_per_year >= 0:
        raise ValueError(f"reversion_per_year must be >= 0, got {reversion_per_year}")
    k = reversion_per_year
    if k == 0:
        step_sd = volatility_per_year * np.sqrt(dt_years)
    else:
        step_sd = volatility_per_year * np.sqrt(-np.expm1(-2.0 * k * dt_years) / (2.0 * k))
    deviation = _ar1_path(initial_yield - long_run_yield, k * dt_years, step_sd * z)
    return long_run_yield + deviation


# ---------------------------------------------------------------------------------------------
# Bonds
# ---------------------------------------------------------------------------------------------


def _check_bond_terms(coupon_rate: float, frequency: int, face: float = 100.0) -> None:
    """Raise ValueError for a coupon frequency not allowed, a negative coupon or a non-positive face."""
    if frequency not in ALLOWED_FREQUENCIES:
        raise ValueError(f"frequency must be one of {ALLOWED_FREQUENCIES}, got {frequency}")
    if not coupon_rate >= 0:
        raise ValueError(f"coupon_rate must be >= 0, got {coupon_rate}")
    if not face > 0:
        raise ValueError(f"face must be > 0, got {face}")


def _coupon_schedule(frequency: int, years_to_maturity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number n >= 1 of remaining coupons and periods w in (0, 1] to the next one (for maturity > 0).

    Coupons fall at maturity - j/frequency > 0, so n = ceil(periods) and w = periods - (n - 1);
    on a coupon date that coupon is already paid (w = 1, no accrued interest).
    """
    periods = years_to_maturity * frequency
    nearest = np.round(periods)
    periods = np.where(np.abs(periods - nearest) < COUPON_DATE_SNAP, nearest, periods)
    n = np.maximum(np.ceil(periods), 1.0)
    return n, periods - (n - 1.0)


def _price_parts(
    yield_: float | np.ndarray,
    coupon_rate: float,
    frequency: int,
    years_to_maturity: float | np.ndarray,
    face: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(dirty price, accrued interest) per `face`, broadcast over yields and maturities; 0 after maturity."""
    _check_bond_terms(coupon_rate, frequency, face)
    y, years = np.broadcast_arrays(
        np.asarray(yield_, dtype=float), np.asarray(years_to_maturity, dtype=float)
    )
    rate = y / frequency
    if np.any(rate <= -1.0):
        raise ValueError(f"yield must be > -{frequency} (1 + y/f > 0) for frequency {frequency}")
    n, w = _coupon_schedule(frequency, years)
    log_growth = np.log1p(rate)
    flat = log_growth == 0.0
    # sum_{j<n} (1 + r)^-j = (1 - v^n) / (1 - v), which is n at a zero yield
    annuity = np.where(flat, n, np.expm1(-n * log_growth) / np.where(flat, 1.0, np.expm1(-log_growth)))
    coupon = face * coupon_rate / frequency
    dirty = np.exp(-w * log_growth) * (coupon * annuity + face * np.exp(-(n - 1.0) * log_growth))
    alive = years > 0
    return np.where(alive, dirty, 0.0), np.where(alive, coupon * (1.0 - w), 0.0)


def dirty_price(
    yield_: float | np.ndarray,
    coupon_rate: float,
    frequency: int,
    years_to_maturity: float | np.ndarray,
    face: float = 100.0,
) -> np.ndarray:
    """Dirty (invoice) price per `face`: present value of the remaining coupons and principal."""
    return _price_parts(yield_, coupon_rate, frequency, years_to_maturity, face)[0]


def accrued_interest(
    coupon_rate: float, frequency: int, years_to_maturity: float | np.ndarray, face: float = 100.0
) -> np.ndarray:
    """Interest accrued linearly since the last coupon, per `face`; 0 on coupon dates and after maturity."""
    return _price_parts(0.0, coupon_rate, frequency, years_to_maturity, face)[1]


def bond_price(
    yield_: float | np.ndarray,
    coupon_rate: float,
    frequency: int,
    years_to_maturity: float | np.ndarray,
    face: float = 100.0,
) -> np.ndarray:
    """Clean price per `face`: dirty price minus accrued interest, broadcast over yields and maturities.

    0 after maturity (years_to_maturity <= 0); par on a coupon date when the yield equals the coupon.
    """
    dirty, accrued = _price_parts(yield_, coupon_rate, frequency, years_to_maturity, face)
    return dirty - accrued


def modified_duration(yield_: float, coupon_rate: float, frequency: int, years_to_maturity: float) -> float:
    """Modified duration -(dP/dy) / P of the dirty price, in years; 0 after maturity."""
    _check_bond_terms(coupon_rate, frequency)
    growth = 1.0 + yield_ / frequency
    if not growth > 0:
        raise ValueError(f"yield must be > -{frequency} (1 + y/f > 0) for frequency {frequency}")
    if years_to_maturity <= 0:
        return 0.0
    n, w = _coupon_schedule(frequency, np.asarray(years_to_maturity, dtype=float))
    periods = w + np.arange(int(n))  # periods until each cash flow
    flows = np.full(int(n), coupon_rate / frequency)
    flows[-1] += 1.0
    present_values = flows * growth**-periods
    return float(present_values @ periods / (present_values.sum() * frequency * growth))


# ---------------------------------------------------------------------------------------------
# Revenue shares
# ---------------------------------------------------------------------------------------------


def seasonal_output_kwh(
    capacity_kw: float, capacity_factor: float, seasonal_amplitude: float, peak_month: float,
    frequency: int, start_month: float, n_periods: int,
) -> np.ndarray:
    """Expected output of each payment period, kWh: capacity x hours x capacity factor x season.

    The season is a cosine over the year, 1 + amplitude x cos(2 pi (month - peak) / 12), taken at
    each period's middle (peaking mid-`peak_month`); `start_month` is the month (0 = 1 January) the first
    period starts. Over a whole year of periods (two or more a year) it averages exactly 1.
    """
    if not 0.0 <= seasonal_amplitude < 1.0:
        raise ValueError(f"seasonal_amplitude must be in [0, 1), got {seasonal_amplitude}")
    middles = start_month + (np.arange(n_periods) + 0.5) * 12.0 / frequency
    season = 1.0 + seasonal_amplitude * np.cos(2.0 * np.pi * (middles - (peak_month - 0.5)) / 12.0)
    return capacity_kw * 8760.0 / frequency * capacity_factor * season


def lognormal_noise(shocks: np.ndarray, sd: float) -> np.ndarray:
    """Multiplicative noise with mean exactly 1: exp(sd x shock - sd^2 / 2)."""
    return np.exp(sd * np.asarray(shocks, dtype=float) - 0.5 * sd * sd)


def revenue_share_value(
    yield_: float | np.ndarray, expected_flows: np.ndarray, frequency: int, years_to_maturity: float | np.ndarray
) -> np.ndarray:
    """Present value of the remaining expected flows, compounded `frequency` times a year.

    Flow i of N (1-based) falls N - i periods before maturity; a flow due on the valuation date
    is already paid, as for a bond's coupon. 0 after maturity.
    """
    y, years = np.broadcast_arrays(np.asarray(yield_, dtype=float), np.asarray(years_to_maturity, dtype=float))
    growth = 1.0 + y / frequency
    if np.any(growth <= 0.0):
        raise ValueError(f"yield must be > -{frequency} (1 + y/f > 0) for frequency {frequency}")
    n, w = _coupon_schedule(frequency, years)
    total = len(expected_flows)
    value = np.zeros(y.shape)
    for i, flow in enumerate(np.asarray(expected_flows, dtype=float), start=1):
        periods = w + (i - (total - n + 1.0))  # periods until flow i, negative if already paid
        value += np.where(periods > 0.0, flow * growth ** -np.maximum(periods, 0.0), 0.0)
    return np.where(years > 0, value, 0.0)
