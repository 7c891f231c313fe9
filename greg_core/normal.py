"""The standard normal distribution, vectorized with numpy alone.

``normal_cdf`` is Cephes' ``ndtr`` (S. L. Moshier's rational approximations of erf and erfc,
public domain): relative error below 3e-15 for |x| <= 3 and 3e-13 out to |x| = 38 (the deep
tail loses digits through exp(-x^2); Cephes' expx2 refinement is left out). It lets Black-Scholes
pricing and the chain loader's deltas run without importing scipy.special, which costs about
half a second at start-up (docs/architecture.md "Start-up").
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


def _polynomial(x: np.ndarray, coefficients: tuple[float, ...], leading_one: bool = False) -> np.ndarray:
    """Horner's rule; ``leading_one`` adds an implicit leading coefficient 1."""
    result = x + coefficients[0] if leading_one else np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result = result * x + c
    return result


def _erf_small(x: np.ndarray) -> np.ndarray:
    z = x * x
    return x * _polynomial(z, _T) / _polynomial(z, _U, leading_one=True)


def _erfc_large(x: np.ndarray) -> np.ndarray:
    """erfc for x >= 1 (0 where it underflows)."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        middle = _polynomial(x, _P) / _polynomial(x, _Q, leading_one=True)
        far = _polynomial(x, _R) / _polynomial(x, _S, leading_one=True)
        result = np.exp(-x * x) * np.where(x < 8.0, middle, far)
    return np.where(x * x > _MAX_LOG, 0.0, result)


def normal_cdf(x: np.ndarray | float) -> np.ndarray:
    """P(Z <= x) for a standard normal Z, element-wise (NaN stays NaN)."""
    a = np.asarray(x, dtype=float) * _SQRT_HALF
    z = np.abs(a)
    near = 0.5 + 0.5 * _erf_small(np.where(z < _SQRT_HALF, a, 0.0))
    # erfc(z): 1 - erf(z) below 1, the rational approximations from 1 on.
    erfc = np.where(z < 1.0, 1.0 - _erf_small(np.minimum(z, 1.0)), _erfc_large(np.maximum(z, 1.0)))
    tail = 0.5 * erfc
    result = np.where(z < _SQRT_HALF, near, np.where(a > 0, 1.0 - tail, tail))
    return np.where(np.isnan(a), np.nan, result)


def normal_pdf(x: np.ndarray | float) -> np.ndarray:
    """The standard normal density, element-wise."""
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
