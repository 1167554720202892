"""Where prices are discovered when one instrument is quoted on two venues.

When the same instrument is listed on an exchange and on a tokenized platform, new information about its value
shows up first on one venue and the other follows. Three standard measures say which venue leads, each from the
two venues' mid quotes sampled on a common clock (`aligned_log_mids`):

- **Hasbrouck information share** (Hasbrouck 1995): the share of the variance of the instrument's common, permanent
  ("efficient") price that comes from each venue's price innovations. A share near 1 for a venue means the news
  reaches its quotes first. When the two venues' innovations move together within one sampling interval, the data
  cannot say which came first, and the share is only known to lie between a lower and an upper bound (one for each
  order in which the venues are assumed to react). The bounds are wide when venues move together at the sampling
  interval (coarse sampling, or venues that both react within the interval); a finer interval usually narrows them.
  The midpoint of the bounds is a convention, not an estimate.
- **Component share** (Gonzalo and Granger 1995): how much each venue's price is *not* pulled back towards the
  other's. A venue that never corrects towards the other while the other always corrects has a share of 1. It only
  looks at these error-correction speeds and ignores how volatile each venue's news is, so it can disagree with the
  information share; it is always a single number.
- **Lead-lag ratio** (Huth and Abergel 2014): how much a venue's price moves now correlate with the other venue's
  moves in the following intervals, against the reverse. Above 1 when venue a leads venue b, below 1 when b leads,
  1 when neither does. It needs no model, but it only sees leads of a few intervals (`lags`) and a lead shorter than
  the sampling interval looks like no lead at all.

The first two come from a vector error-correction model of the two log mid prices, which assumes the two prices
cannot drift apart for long (they are the same instrument; the price gap (1, -1) is stationary). None of the measures
is a causal statement about where traders are informed; they describe whose quotes move first. Prices are only
differenced within one segment of consecutive grid points, so an overnight gap or a lunch break, where one venue may
have moved while the other was closed, never counts as a move. When the data cannot identify the model (too few
observations, prices that never move, a singular regression, equal error-correction speeds) the measures are NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.market.calendar import MINUTES_PER_DAY

MIN_OBSERVATIONS = 30
"""Fewer usable observations than this and the measures are NaN: too few to estimate a VECM with a few lags."""

_GRID_TOLERANCE = 1e-6  # minutes: a quote this close after a grid point counts as at that point (float round-off)
_RANK_TOLERANCE = 1e-10  # singular value of the unit-length regressor columns below which they count as singular


@dataclass(frozen=True)
class AlignedLogMids:
    """Two listings' log mid prices on a common time grid, cut into segments of consecutive grid points.

    `time` is each grid point in business days (day + minutes / 1440); `segment` numbers the runs of grid points
    that are adjacent on the grid within one day, from 0 and increasing. Prices may be differenced only within a
    segment.
    """

    log_a: np.ndarray
    log_b: np.ndarray
    segment: np.ndarray
    time: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.log_a)
        if not (len(self.log_b) == len(self.segment) == len(self.time) == n):
            raise ValueError("log_a, log_b, segment and time must have the same length")
        if n > 1 and np.any(np.diff(self.segment) < 0):
            raise ValueError("segments must be numbered in order (each segment one run of grid points)")


@dataclass(frozen=True)
class DiscoveryShares:
    """Price-discovery measures of venue a against venue b (venue b's shares are 1 minus a's; see module docs).

    `hasbrouck_low_a` and `hasbrouck_high_a` bound venue a's information share (venue b's bounds are 1 - high and
    1 - low), `hasbrouck_mid_a` is their midpoint, `component_share_a` the Gonzalo-Granger share, `lead_lag_ratio`
    above 1 when a leads, and `observations` the number of VECM observations used. NaN where not identified.
    """

    hasbrouck_low_a: float
    hasbrouck_high_a: float
    hasbrouck_mid_a: float
    component_share_a: float
    lead_lag_ratio: float
    observations: int


def _grid_last_quotes(quotes: pd.DataFrame, listing: int, interval_minutes: float) -> pd.DataFrame:
    """One listing's last two-sided log mid in each grid interval (g - interval, g] of its day, keyed by (day, slot).

    The quote kept for grid point g is the last one at or before g that is less than `interval_minutes` old and from
    the same day, so a quote is never carried over a closed session or overnight.
    """
    rows = quotes.loc[(quotes["listing"] == listing) & (quotes["bid_cents"] > 0) & (quotes["ask_cents"] > 0),
                      ["time", "day", "bid_cents", "ask_cents"]]
    rows = rows.sort_values("time", kind="mergesort")
    day = rows["day"].to_numpy(dtype=np.int64)
    minute = (rows["time"].to_numpy(dtype=float) - day) * MINUTES_PER_DAY
    slot = np.ceil(minute / interval_minutes - _GRID_TOLERANCE / interval_minutes).astype(np.int64)
    mid = (rows["bid_cents"].to_numpy(dtype=float) + rows["ask_cents"].to_numpy(dtype=float)) / 2.0
    frame = pd.DataFrame({"day": day, "slot": slot, "log_mid": np.log(mid)})
    frame = frame[frame["slot"] * interval_minutes < MINUTES_PER_DAY - _GRID_TOLERANCE]
    return frame.drop_duplicates(["day", "slot"], keep="last")


def aligned_log_mids(quotes: pd.DataFrame, listing_a: int, listing_b: int, interval_minutes: float) -> AlignedLogMids:
    """Two listings' log mid prices at the grid points (every `interval_minutes` from each day's midnight) where both
    have a fresh two-sided quote.

    At each grid point each listing takes its last two-sided quote at or before the point, provided that quote is from
    the same day and less than `interval_minutes` old; grid points where either listing has no such quote are left
    out. Rows with a missing side (-1) are ignored. Consecutive kept points share a segment only if they are adjacent
    on the grid in the same day, so gaps, lunch breaks and nights start new segments.

    Choose `interval_minutes` at least as long as the slower venue's requote interval: on a finer grid the slower
    venue's quotes are stale at most points, and the segments are too short to difference. The quotes do not record
    when a session closes, so a grid point within `interval_minutes` after a close may still take the last quote
    before it (on a 10-minute grid, a venue requoting every 5 minutes that closes at 12:00 gives a point at 12:00
    with its 11:55 quote).
    """
    if not interval_minutes > 0:
        raise ValueError("interval_minutes must be positive")
    a = _grid_last_quotes(quotes, listing_a, interval_minutes)
    b = _grid_last_quotes(quotes, listing_b, interval_minutes)
    both = a.merge(b, on=["day", "slot"], suffixes=("_a", "_b")).sort_values(["day", "slot"], kind="mergesort")
    day = both["day"].to_numpy()
    slot = both["slot"].to_numpy()
    starts = np.ones(len(both), dtype=bool)
    starts[1:] = (day[1:] != day[:-1]) | (slot[1:] != slot[:-1] + 1)
    return AlignedLogMids(
        log_a=both["log_mid_a"].to_numpy(dtype=float),
        log_b=both["log_mid_b"].to_numpy(dtype=float),
        segment=np.cumsum(starts) - 1,
        time=day + slot * interval_minutes / MINUTES_PER_DAY,
    )


def _vecm_rows(prices: AlignedLogMids, lags: int) -> tuple[np.ndarray, np.ndarray]:
    """The VECM's dependent moves dp_t (n x 2) and regressors [1, (p_a - p_b)_{t-1}, dp_{t-1}, ..., dp_{t-lags}].

    Only rows t whose every lag lies in t's segment are kept (the earliest price used is p_{t-lags-1}).
    """
    p = np.column_stack([prices.log_a, prices.log_b])
    segment = np.asarray(prices.segment)
    n = len(p)
    first = lags + 1
    if n <= first:
        return np.empty((0, 2)), np.empty((0, 2 + 2 * lags))
    t = np.arange(first, n)
    t = t[segment[t] == segment[t - first]]
    dp = np.vstack([np.full((1, 2), np.nan), np.diff(p, axis=0)])
    columns = [np.ones(len(t)), p[t - 1, 0] - p[t - 1, 1]]
    for i in range(1, lags + 1):
        columns += [dp[t - i, 0], dp[t - i, 1]]
    return dp[t], np.column_stack(columns)


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """OLS of each column of y on x (coefficients, residuals), or None if x is singular.

    Columns are scaled to unit length first, so singularity is judged independently of the units of each regressor.
    """
    scale = np.linalg.norm(x, axis=0)
    if np.any(scale == 0) or not np.all(np.isfinite(x)) or not np.all(np.isfinite(y)):
        return None
    scaled = x / scale
    if np.linalg.matrix_rank(scaled, tol=_RANK_TOLERANCE) < x.shape[1]:
        return None
    coefficients, *_ = np.linalg.lstsq(scaled, y, rcond=None)
    coefficients = coefficients / scale[:, None]
    return coefficients, y - x @ coefficients


def _hasbrouck_bounds(psi: np.ndarray, omega: np.ndarray) -> tuple[float, float]:
    """Venue a's information share under both orderings of the venues (low, high), or NaNs if undefined."""
    total = float(psi @ omega @ psi)
    if not total > 0:
        return math.nan, math.nan
    shares = []
    for order in ([0, 1], [1, 0]):
        try:
            factor = np.linalg.cholesky(omega[np.ix_(order, order)])
        except np.linalg.LinAlgError:
            return math.nan, math.nan
        contribution = (psi[order] @ factor) ** 2 / total
        shares.append(float(contribution[order.index(0)]))
    return min(shares), max(shares)


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation, NaN with fewer than MIN_OBSERVATIONS pairs or a series that never moves."""
    if len(x) < MIN_OBSERVATIONS:
        return math.nan
    x = x - x.mean()
    y = y - y.mean()
    denominator = math.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y) / denominator if denominator > 0 else math.nan


def lead_lag_ratio(prices: AlignedLogMids, lags: int = 2) -> float:
    """Huth and Abergel's lead-lag ratio: sum over k = 1..lags of corr(da_t, db_{t+k})^2 over the same with db_{t-k}.

    Above 1 when venue a's moves precede venue b's. Moves and their pairs are taken within one segment only.
    """
    log_a = np.asarray(prices.log_a)
    log_b = np.asarray(prices.log_b)
    segment = np.asarray(prices.segment)
    n = len(log_a)
    da = np.diff(log_a)  # da[i] is the move into grid point i + 1
    db = np.diff(log_b)
    a_leads = b_leads = 0.0
    for k in range(1, lags + 1):
        if n - 1 - k < 1:
            return math.nan
        i = np.arange(n - 1 - k)  # pairs (move into i + 1, move into i + 1 + k): prices i .. i + 1 + k in one segment
        i = i[segment[i] == segment[i + 1 + k]]
        forward = _correlation(da[i], db[i + k])
        backward = _correlation(da[i + k], db[i])
        if math.isnan(forward) or math.isnan(backward):
            return math.nan
        a_leads += forward ** 2
        b_leads += backward ** 2
    return a_leads / b_leads if b_leads > 0 else math.nan


def information_shares(prices: AlignedLogMids, lags: int = 2) -> DiscoveryShares:
    """Hasbrouck information-share bounds, Gonzalo-Granger component share and lead-lag ratio of venue a.

    The shares come from the VECM dp_t = c + alpha (p_a - p_b)_{t-1} + sum_i Gamma_i dp_{t-i} + e_t, estimated by
    OLS equation by equation on the observations whose lags all lie in their own segment. Measures the data cannot
    identify are NaN.
    """
    if lags < 0:
        raise ValueError("lags must be non-negative")
    y, x = _vecm_rows(prices, lags)
    observations = len(y)
    nan = math.nan
    lead_lag = lead_lag_ratio(prices, lags) if lags >= 1 else nan
    fit = _ols(y, x) if observations >= max(MIN_OBSERVATIONS, x.shape[1] + 1) else None
    if fit is None:
        return DiscoveryShares(nan, nan, nan, nan, lead_lag, observations)
    coefficients, residuals = fit
    alpha = coefficients[1]  # (alpha_a, alpha_b)
    gamma_sum = sum((coefficients[2 + 2 * (i - 1): 4 + 2 * (i - 1)].T for i in range(1, lags + 1)), np.zeros((2, 2)))
    if alpha[0] == alpha[1]:
        return DiscoveryShares(nan, nan, nan, nan, lead_lag, observations)
    alpha_perp = np.array([-alpha[1], alpha[0]])
    component_share = float(np.clip(alpha_perp[0] / (alpha_perp[0] + alpha_perp[1]), 0.0, 1.0))
    # psi = alpha_perp' / (alpha_perp' (I - sum Gamma) (1, 1)'): the scale cancels in the shares, but a zero
    # normaliser means no permanent price at all.
    normaliser = float(alpha_perp @ (np.eye(2) - gamma_sum) @ np.ones(2))
    omega = residuals.T @ residuals / (observations - x.shape[1])
    if normaliser == 0 or not np.isfinite(normaliser):
        low = high = nan
    else:
        low, high = _hasbrouck_bounds(alpha_perp / normaliser, omega)
    return DiscoveryShares(low, high, (low + high) / 2.0, component_share, lead_lag, observations)


@dataclass(frozen=True)
class QuotedPair:
    """One instrument quoted on two venues' order books: its two listings, and the grid its mids are read on
    (the slower of the two makers' requote clocks, so that every grid point holds a fresh quote from each)."""

    instrument: str
    venue_a: str
    listing_a: int
    venue_b: str
    listing_b: int
    interval_minutes: float


DISCOVERY_COLUMNS = ["instrument", "venue_a", "venue_b", "interval_minutes", "observations", "hasbrouck_low_a",
                     "hasbrouck_high_a", "component_share_a", "lead_lag_ratio"]


def discovery_table(quotes: pd.DataFrame, pairs: list[QuotedPair], lags: int = 2) -> pd.DataFrame:
    """One row per pair: the measures of venue a against venue b (`information_shares`) on the pair's grid."""
    rows = []
    for pair in pairs:
        shares = information_shares(aligned_log_mids(quotes, pair.listing_a, pair.listing_b, pair.interval_minutes),
                                    lags)
        rows.append([pair.instrument, pair.venue_a, pair.venue_b, pair.interval_minutes, shares.observations,
                     shares.hasbrouck_low_a, shares.hasbrouck_high_a, shares.component_share_a, shares.lead_lag_ratio])
    return pd.DataFrame(rows, columns=DISCOVERY_COLUMNS)
