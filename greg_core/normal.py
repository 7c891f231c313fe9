"""The standard normal distribution, vectorized with numpy alone.

``normal_cdf`` is Cephes' ``ndtr`` (S. L. Moshier's rational approximations of erf and erfc,
public domain): relative error below 3e-15 for |x| <= 3 and 3e-13 out to |x| = 38 (the deep
tail loses digits through exp(-x^2); Cephes' expx2 refinement is left out). It lets Black-Scholes
pricing and the chain loader's deltas run without importing scipy.special at start-up; only a
run with millions of values (a very long synthetic sweep) loads scipy's C version of the same
algorithm. ``normal_ppf`` is its inverse.
"""

from __future__ import annotations

import math

import numpy as np

_SQRT_HALF = math.sqrt(0.5)
_MAX_LOG = 7.09782712893383996843e2
# erf(x) = x T(x^2) / U(x^2) for |x| <= 1.
_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
      7.00332514112805075473e3, 5.55923013010394962768e4)
_U = (3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
      2.26290000613890934246e4, 4.92673942608635921086e4)
# erfc(x) = exp(-x^2) P(x) / Q(x) for 1 <= x < 8, exp(-x^2) R(x) / S(x) from 8 on.
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
      4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
      9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_Q = (1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
      9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
      1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
      6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_S = (2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
      1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


# From this many values in one call, scipy.special.ndtr (C, ~40 ns a value against ~130 here)
# is worth its import (~0.2 s of CPU): a long sweep prices chunks of ~1 million deltas, the
# default sweep's largest call holds ~35,000.
_SCIPY_FROM = 1 << 18


def _polynomial(x: np.ndarray, coefficients: tuple[float, ...], leading_one: bool = False) -> np.ndarray:
    """Horner's rule, in place; ``leading_one`` adds an implicit leading coefficient 1."""
    result = x + coefficients[0] if leading_one else np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result *= x
        result += c
    return result


def _erf_small(x: np.ndarray) -> np.ndarray:
    """erf for |x| <= 1."""
    z = x * x
    return x * _polynomial(z, _T) / _polynomial(z, _U, leading_one=True)


def _erfc(z: np.ndarray) -> np.ndarray:
    """erfc for z >= 1/sqrt(2) (0 where it underflows)."""
    out = np.empty_like(z)
    small = z < 1.0
    if small.any():
        out[small] = 1.0 - _erf_small(z[small])
    large = ~small
    if large.any():
        x = z[large]
        ratio = np.empty_like(x)
        middle = x < 8.0
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):  # +-inf and NaN inputs
            if middle.any():
                ratio[middle] = _polynomial(x[middle], _P) / _polynomial(x[middle], _Q, leading_one=True)
            if not middle.all():
                far = x[~middle]
                ratio[~middle] = _polynomial(far, _R) / _polynomial(far, _S, leading_one=True)
            value = np.exp(-x * x) * ratio
        value[x * x > _MAX_LOG] = 0.0
        out[large] = value
    return out


def normal_cdf(x: np.ndarray | float, out: np.ndarray | None = None) -> np.ndarray:
    """P(Z <= x) for a standard normal Z, element-wise (NaN stays NaN); ``out`` like a ufunc."""
    values = np.asarray(x, dtype=float)
    if values.size >= _SCIPY_FROM:
        from scipy.special import ndtr  # same Cephes algorithm, in C

        return ndtr(values, out=out) if out is not None else ndtr(values)
    a = values * _SQRT_HALF
    result = np.empty_like(a) if out is None else out
    z = np.abs(a)
    near = z < _SQRT_HALF
    if near.any():
        result[near] = 0.5 + 0.5 * _erf_small(a[near])
    far = ~near
    if far.any():
        tail = 0.5 * _erfc(z[far])
        result[far] = np.where(a[far] > 0, 1.0 - tail, tail)
    return result


def normal_pdf(x: np.ndarray | float) -> np.ndarray:
    """The standard normal density, element-wise."""
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


# Acklam's rational approximation of the inverse normal CDF (relative error ~1e-9), refined
# by two Newton steps on ``normal_cdf`` to full double precision.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
_P_LOW = 0.02425


def normal_ppf(p: np.ndarray | float) -> np.ndarray:
    """The x with ``normal_cdf(x) = p``, element-wise; NaN outside (0, 1)."""
    p = np.asarray(p, dtype=float)
    x = np.full(p.shape, np.nan)
    inside = (p > 0) & (p < 1)
    lower = inside & (p < _P_LOW)
    upper = inside & (p > 1 - _P_LOW)
    central = inside & ~lower & ~upper
    if central.any():
        q = p[central] - 0.5
        r = q * q
        x[central] = q * _polynomial(r, _A) / (_polynomial(r, _B) * r + 1.0)
    for mask, sign, prob in ((lower, 1.0, p), (upper, -1.0, 1.0 - p)):
        if mask.any():
            q = np.sqrt(-2.0 * np.log(prob[mask]))
            x[mask] = sign * _polynomial(q, _C) / (_polynomial(q, _D) * q + 1.0)
    for _ in range(2):
        with np.errstate(invalid="ignore", over="ignore"):
            x = x - (normal_cdf(x) - p) / normal_pdf(x)
    return np.where(inside, x, np.nan)
