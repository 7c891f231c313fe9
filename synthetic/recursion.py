"""First-order linear recursions over long paths, without scipy.signal.

``linear_recurrence`` computes ``y[k] = coef[k] * y[k-1] + inputs[k]`` from ``y[-1] = start``:
every AR(1) of the synthetic universe (log-vol state, IV around its target, skew and term
states, the anchored log price) is one. A plain Python loop costs ~0.3-0.5 us a step; this
runs blocks of ``BLOCK`` steps as a doubling scan in numpy (log2(BLOCK) vectorized passes, no
division, so it is exact up to rounding for any coefficient, zero included) and carries the
value from block to block in a short loop, ~4x faster on a million steps. Importing
scipy.signal for ``lfilter`` would cost ~2 s at start-up (docs/synthetic.md).
"""

from __future__ import annotations

import numpy as np

BLOCK = 64


def linear_recurrence(coef: float | np.ndarray, inputs: np.ndarray, start: float = 0.0) -> np.ndarray:
    """``y[k] = coef[k] * y[k-1] + inputs[k]`` with ``y[-1] = start`` (``coef`` scalar or per step)."""
    b = np.asarray(inputs, dtype="float64")
    n = len(b)
    if n == 0:
        return np.empty(0)
    blocks = -(-n // BLOCK)
    b_blocks = np.zeros(blocks * BLOCK)
    b_blocks[:n] = b
    b_blocks = b_blocks.reshape(blocks, BLOCK)
    constant = np.ndim(coef) == 0
    if constant:
        # Same coefficient everywhere: the composed coefficients are its powers.
        a_blocks = float(coef) ** np.arange(1, BLOCK + 1)
    else:
        a_blocks = np.ones(blocks * BLOCK)
        a_blocks[:n] = coef
        a_blocks = a_blocks.reshape(blocks, BLOCK)
    # Within each block, compose the affine steps y -> a*y + b pairwise (Hillis-Steele scan):
    # afterwards column j maps the value before the block to y at that step.
    shift = 1
    while shift < BLOCK:
        if constant:
            b_blocks[:, shift:] += a_blocks[shift - 1] * b_blocks[:, :-shift]
        else:
            b_blocks[:, shift:] += a_blocks[:, shift:] * b_blocks[:, :-shift]
            a_blocks[:, shift:] *= a_blocks[:, :-shift]
        shift *= 2
    a_end = np.full(blocks, a_blocks[-1]) if constant else a_blocks[:, -1]
    carry = np.empty(blocks)
    previous = float(start)
    for i, (a_last, b_last) in enumerate(zip(a_end.tolist(), b_blocks[:, -1].tolist(), strict=True)):
        carry[i] = previous
        previous = a_last * previous + b_last
    out = (a_blocks[None, :] if constant else a_blocks) * carry[:, None]
    out += b_blocks
    return out.reshape(-1)[:n]
