"""Tests for the fundamental value processes: GBM and Vasicek paths against their analytic
moments, correlated shocks, and bond prices against par, zero-coupon and brute-force references."""


import numpy as np
import pytest

from sim.market.value_processes import (
    accrued_interest,
    bond_price,
    correlated_shocks,
    dirty_price,
    gbm_path,
    lognormal_noise,
    modified_duration,
    revenue_share_value,
    seasonal_output_kwh,
    vasicek_path,
)

PATHS = 20_000


def normals(seed: int, *shape: int) -> np.ndarray:
    """Standard normals from a fixed seed."""
    return np.random.default_rng(seed).standard_normal(shape)


def brute_force_clean(y: float, coupon: float, freq: int, years: float, face: float = 100.0) -> float:
    """Clean price by listing every cash flow date explicitly (reference for the closed form)."""
    times = [years - j / freq for j in range(int(years * freq) + 2) if years - j / freq > 1e-12]
    flows = [face * coupon / freq] * len(times)
    flows[0] += face  # times[0] is the maturity
    dirty = sum(cf / (1 + y / freq) ** (freq * t) for cf, t in zip(flows, times))
    periods_to_next = freq * min(times)
    return dirty - face * coupon / freq * (1 - periods_to_next)


# --- GBM -------------------------------------------------------------------------------------


def test_gbm_without_volatility_is_exact_exponential_growth():
    n, dt = 1_000, 1 / 250
    path = gbm_path(100.0, 0.07, 0.0, dt, normals(1, n))
    assert path.shape == (n + 1,) and path[0] == 100.0
    np.testing.assert_allclose(path, 100.0 * np.exp(0.07 * dt * np.arange(n + 1)), rtol=1e-12)


def test_gbm_final_mean_and_log_mean_match_lognormal_moments():
    mu, sigma, n, dt = 0.05, 0.2, 50, 0.02
    final = gbm_path(100.0, mu, sigma, dt, normals(2, n, PATHS))[-1]
    T = n * dt
    standard_error = 100.0 * np.exp(mu * T) * np.sqrt(np.expm1(sigma**2 * T) / PATHS)
    assert abs(final.mean() - 100.0 * np.exp(mu * T)) < 4 * standard_error
    # the -sigma^2/2 correction sits in the log drift (a missing one would shift this by 0.02)
    assert abs(np.log(final / 100.0).mean() - (mu - sigma**2 / 2) * T) < 4 * sigma * np.sqrt(T / PATHS)


def test_gbm_log_increments_have_variance_sigma_squared_dt():
    sigma, dt = 0.3, 1 / 252
    path = gbm_path(50.0, 0.0, sigma, dt, normals(3, 100, 500))
    increments = np.diff(np.log(path), axis=0)
    np.testing.assert_allclose(increments.var(), sigma**2 * dt, rtol=0.03)


# --- Vasicek ---------------------------------------------------------------------------------


def test_vasicek_without_volatility_decays_exactly_to_long_run_yield():
    k, theta, y0, dt, n = 50.0, 0.04, 0.09, 1 / 250, 25_000  # k dt n = 5000: many blocks
    path = vasicek_path(y0, theta, k, 0.0, dt, normals(4, n))
    t = dt * np.arange(n + 1)
    np.testing.assert_allclose(path, theta + (y0 - theta) * np.exp(-k * t), rtol=1e-12)
    assert path[-1] == pytest.approx(theta, abs=1e-15)


def test_vasicek_matches_step_by_step_recursion_across_blocks():
    k, theta, y0, sigma, dt, n = 50.0, 0.03, 0.05, 0.02, 1 / 250, 2_000
    z = normals(5, n)
    a = np.exp(-k * dt)
    sd = sigma * np.sqrt((1 - a**2) / (2 * k))
    expected = [y0]
    for shock in z:
        expected.append(theta + (expected[-1] - theta) * a + sd * shock)
    np.testing.assert_allclose(vasicek_path(y0, theta, k, sigma, dt, z), expected, rtol=0, atol=1e-13)


def test_vasicek_moments_at_horizon_match_analytic_on_a_coarse_grid():
    # dt = 0.5 with k = 0.5: an Euler step variance would be 27% too high
    k, theta, y0, sigma, dt, n = 0.5, 0.04, 0.02, 0.01, 0.5, 4
    final = vasicek_path(y0, theta, k, sigma, dt, normals(6, n, PATHS))[-1]
    T = n * dt
    variance = sigma**2 * -np.expm1(-2 * k * T) / (2 * k)
    assert abs(final.mean() - (theta + (y0 - theta) * np.exp(-k * T))) < 4 * np.sqrt(variance / PATHS)
    np.testing.assert_allclose(final.var(), variance, rtol=0.05)


def test_vasicek_without_reversion_is_brownian_and_may_go_negative():
    sigma, dt, n = 0.01, 0.25, 8
    final = vasicek_path(0.01, 0.05, 0.0, sigma, dt, normals(7, n, PATHS))[-1]
    assert abs(final.mean() - 0.01) < 4 * sigma * np.sqrt(n * dt / PATHS)  # no pull towards 0.05
    np.testing.assert_allclose(final.var(), sigma**2 * n * dt, rtol=0.05)
    assert (final < 0).any()


# --- Correlated shocks -----------------------------------------------------------------------


def test_correlated_shocks_reproduce_the_target_correlation():
    target = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])
    z = correlated_shocks(np.random.default_rng(8), 200_000, target)
    assert z.shape == (200_000, 3)
    np.testing.assert_allclose(np.corrcoef(z, rowvar=False), target, atol=0.01)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=0.01)


def test_perfect_correlation_is_accepted_as_semi_definite():
    z = correlated_shocks(np.random.default_rng(9), 1_000, np.ones((2, 2)))
    np.testing.assert_allclose(z[:, 0], z[:, 1], atol=1e-4)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1.0, 0.5], [0.4, 1.0]], "not symmetric"),
        ([[2.0, 0.5], [0.5, 1.0]], "diagonal"),
        ([[1.0, 1.5], [1.5, 1.0]], r"outside \[-1, 1\]"),
        ([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]], "positive semi-definite"),
        ([[1.0, 0.5, 0.0]], "square"),
        ([[1.0, np.nan], [np.nan, 1.0]], "non-finite"),
    ],
)
def test_invalid_correlation_matrices_are_rejected(matrix, message):
    with pytest.raises(ValueError, match=message):
        correlated_shocks(np.random.default_rng(0), 10, np.array(matrix))


# --- Bond prices -----------------------------------------------------------------------------


@pytest.mark.parametrize("freq", [1, 2, 4, 12])
@pytest.mark.parametrize("periods", [1, 3, 14, 360])
def test_par_at_coupon_dates_when_yield_equals_coupon(freq, periods):
    years = periods / freq
    assert float(bond_price(0.05, 0.05, freq, years)) == pytest.approx(100.0, abs=1e-9)
    assert float(accrued_interest(0.05, freq, years)) == pytest.approx(0.0, abs=1e-12)


def test_hk_tokenised_green_bond_hkd_tranche_prices_at_par_at_issue():
    assert float(bond_price(0.038, 0.038, 2, 2.0)) == pytest.approx(100.0, abs=1e-10)


def test_discount_and_premium_and_decreasing_in_yield():
    assert bond_price(0.06, 0.04, 2, 5.0) < 100.0 < bond_price(0.02, 0.04, 2, 5.0)
    prices = bond_price(np.linspace(-0.01, 0.15, 50), 0.04, 2, 5.3)
    assert np.all(np.diff(prices) < 0)


@pytest.mark.parametrize(("y", "freq", "years"), [(0.045, 2, 3.3), (0.0, 4, 1.1), (0.08, 1, 9.99)])
def test_zero_coupon_bond_is_discounted_face(y, freq, years):
    expected = 100.0 / (1 + y / freq) ** (freq * years)
    assert float(bond_price(y, 0.0, freq, years)) == pytest.approx(expected, rel=1e-12)


def test_clean_price_is_continuous_across_a_coupon_date_while_dirty_drops_by_the_coupon():
    before, after = 2.0 + 1e-7, 2.0 - 1e-7  # years to maturity just before and just after paying
    clean = bond_price(0.05, 0.06, 2, np.array([before, after]))
    dirty = dirty_price(0.05, 0.06, 2, np.array([before, after]))
    assert abs(clean[0] - clean[1]) < 1e-5
    assert dirty[0] - dirty[1] == pytest.approx(3.0, abs=1e-5)


def test_matches_brute_force_cash_flows_between_coupon_dates():
    cases = [(0.05, 0.06, 2, 4.3), (0.01, 0.038, 4, 0.1), (0.07, 0.02, 12, 2.77), (-0.005, 0.01, 1, 3.5)]
    for y, coupon, freq, years in cases:
        expected = brute_force_clean(y, coupon, freq, years)
        assert float(bond_price(y, coupon, freq, years)) == pytest.approx(expected, rel=1e-12)


def test_price_is_zero_after_maturity():
    np.testing.assert_array_equal(bond_price(0.05, 0.05, 2, np.array([0.0, -0.5])), [0.0, 0.0])
    assert modified_duration(0.05, 0.05, 2, 0.0) == 0.0


@pytest.mark.parametrize(
    ("y", "coupon", "freq", "years"), [(0.05, 0.06, 2, 4.3), (0.03, 0.0, 4, 10.0), (0.02, 0.05, 12, 0.4)]
)
def test_modified_duration_matches_finite_difference_of_dirty_price(y, coupon, freq, years):
    h = 1e-6
    slope = (dirty_price(y + h, coupon, freq, years) - dirty_price(y - h, coupon, freq, years)) / (2 * h)
    expected = float(-slope / dirty_price(y, coupon, freq, years))
    assert modified_duration(y, coupon, freq, years) == pytest.approx(expected, rel=1e-7)


def test_zero_coupon_modified_duration_is_maturity_over_one_plus_periodic_yield():
    assert modified_duration(0.04, 0.0, 2, 7.25) == pytest.approx(7.25 / 1.02, rel=1e-12)


def test_vectorised_path_equals_scalar_calls_and_is_fast():
    n = 25_000
    years = 10.0 - np.arange(n) * (10.5 / n)  # runs past maturity
    yields = vasicek_path(0.04, 0.04, 0.3, 0.01, 10.5 / n, normals(10, n - 1))
    prices = bond_price(yields, 0.04, 4, years)
    sample = slice(None, None, 7)  # every 7th step, across every coupon period and past maturity
    pairs = zip(yields[sample].tolist(), years[sample].tolist())
    scalar = [float(bond_price(y, 0.04, 4, t)) for y, t in pairs]
    np.testing.assert_array_equal(prices[sample], scalar)
    assert prices[-1] == 0.0


# --- Input validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bond_price(0.05, 0.05, 3, 1.0), "frequency"),
        (lambda: bond_price(0.05, -0.01, 2, 1.0), "coupon_rate"),
        (lambda: bond_price(0.05, 0.05, 2, 1.0, face=0.0), "face"),
        (lambda: bond_price(-2.5, 0.05, 2, 1.0), "yield"),
        (lambda: modified_duration(0.05, 0.05, 6, 1.0), "frequency"),
        (lambda: modified_duration(0.05, -0.05, 2, 1.0), "coupon_rate"),
        (lambda: gbm_path(100.0, 0.05, 0.2, 0.0, np.zeros(3)), "dt_years"),
        (lambda: gbm_path(100.0, 0.05, -0.2, 0.1, np.zeros(3)), "volatility"),
        (lambda: gbm_path(0.0, 0.05, 0.2, 0.1, np.zeros(3)), "initial"),
        (lambda: vasicek_path(0.03, 0.04, -0.1, 0.01, 0.1, np.zeros(3)), "reversion"),
        (lambda: vasicek_path(0.03, 0.04, 0.1, -0.01, 0.1, np.zeros(3)), "volatility"),
        (lambda: vasicek_path(0.03, 0.04, 0.1, 0.01, -0.1, np.zeros(3)), "dt_years"),
        (lambda: correlated_shocks(np.random.default_rng(0), -1, np.eye(2)), "n_steps"),
    ],
)
def test_invalid_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- revenue shares ----------------------------------------------------------------------------


@pytest.mark.parametrize("frequency", [2, 4, 12])
def test_seasonal_output_averages_to_capacity_times_capacity_factor_over_a_year(frequency):
    output = seasonal_output_kwh(1000.0, 0.12, 0.3, 7, frequency, 2.5, frequency)
    assert output.sum() == pytest.approx(1000.0 * 8760 * 0.12)
    assert output.max() > output.mean() > output.min()  # the season moves it


def test_seasonal_output_peaks_in_the_peak_month():
    monthly = seasonal_output_kwh(1000.0, 0.12, 0.25, 8, 12, 0.0, 12)
    assert int(np.argmax(monthly)) == 7 and int(np.argmin(monthly)) == 1  # August high, February low
    with pytest.raises(ValueError, match="seasonal_amplitude"):
        seasonal_output_kwh(1000.0, 0.12, 1.5, 8, 12, 0.0, 12)


def test_lognormal_noise_has_mean_one():
    noise = lognormal_noise(np.random.default_rng(3).standard_normal(200_000), 0.3)
    assert noise.min() > 0 and noise.mean() == pytest.approx(1.0, abs=0.005)
    assert lognormal_noise(np.zeros(3), 0.3) == pytest.approx(np.exp(-0.045))


def test_revenue_share_value_of_flat_flows_is_an_annuity_and_zero_after_maturity():
    flows = np.full(24, 2.0)
    g = 1 + 0.05 / 12
    value = revenue_share_value(0.05, flows, 12, np.array([2.0, 1.0 + 0.5 / 12, 0.0]))
    assert value[0] == pytest.approx(2.0 * (1 - g ** -24) / (g - 1))
    assert value[1] == pytest.approx(2.0 * g ** -0.5 * (1 - g ** -13) / (1 - 1 / g))
    assert value[2] == 0.0
