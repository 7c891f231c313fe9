"""The numpy-only normal CDF against the C library's erfc."""

from __future__ import annotations

import math

import numpy as np

from greg_core.normal import normal_cdf, normal_pdf, normal_ppf


def reference(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def test_cdf_matches_libm_everywhere():
    xs = np.concatenate([np.linspace(-40, 40, 40001), [-1e-12, 0.0, 1e-12, 0.7071, 1.41421, 11.3, -11.3]])
    got = normal_cdf(xs)
    expected = np.array([reference(x) for x in xs])
    relative = np.abs(got - expected) / np.maximum(expected, 1e-300)
    central = np.abs(xs) <= 3  # where option deltas and prices live: ~1e-15
    assert relative[central].max() < 1e-14
    # Deep tails lose digits through exp(-x^2) (Cephes' expx2 trick is left out): still 1e-12.
    assert relative[expected > 1e-300].max() < 1e-12
    np.testing.assert_allclose(got, expected, rtol=0, atol=5e-16)  # two ulps near 1


def test_cdf_edges_and_nan():
    assert normal_cdf(0.0) == 0.5
    assert normal_cdf(np.inf) == 1.0 and normal_cdf(-np.inf) == 0.0
    assert np.isnan(normal_cdf(np.nan))
    assert normal_cdf(np.array([[1.0, -1.0]])).shape == (1, 2)


def test_pdf():
    assert normal_pdf(0.0) == 1 / math.sqrt(2 * math.pi)
    assert normal_pdf(1.5) == math.exp(-1.125) / math.sqrt(2 * math.pi)


def test_large_arrays_use_the_same_values():
    """Millions of values go through scipy's C ndtr: the same numbers to the last bits."""
    from greg_core import normal

    x = np.linspace(-9, 9, 100_001)
    small = normal.normal_cdf(x)
    big = normal.normal_cdf(np.tile(x, normal._SCIPY_FROM // len(x) + 1))[: len(x)]
    np.testing.assert_allclose(big, small, rtol=0, atol=4e-16)
    out = np.empty_like(x)
    assert normal.normal_cdf(x, out=out) is out and np.array_equal(out, small)


def test_ppf_inverts_the_cdf():
    p = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 20001), [0.25, 0.75, 0.1, 0.9, 0.5]])
    x = normal_ppf(p)
    np.testing.assert_allclose(normal_cdf(x), p, rtol=1e-13, atol=1e-16)
    assert normal_ppf(0.5) == 0.0
    assert abs(normal_ppf(0.25) + 0.6744897501960817) < 1e-15
    assert np.isnan(normal_ppf(np.array([0.0, 1.0, -0.1, np.nan]))).all()
