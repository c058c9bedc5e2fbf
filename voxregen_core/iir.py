"""IIR filtering of second-order sections as matrix products: ``scipy.signal.sosfilt``'s
output to float32 rounding, in about its time, without importing ``scipy.signal`` (0.3-0.6 s of
a cold render's start, `python -X importtime`).

A cascade of sections is one linear system: a state ``z`` of two numbers per section (the
transposed direct form II), ``z[n + 1] = A z[n] + B x[n]`` and ``y[n] = C z[n] + D x[n]``.
Over a block of ``L`` = :data:`BLOCK_SAMPLES` inputs that is exact in closed form:

- the block's outputs are its inputs through the impulse response (a lower-triangular Toeplitz
  matrix: ``D``, then ``C A^(k-1) B``) plus its start state through ``C A^k``;
- the next block's start state is ``A^L`` times this one plus the inputs through
  ``A^(L-1-m) B``: the block's *share*.

So two matrix products over all the blocks at once give the outputs, once the start states are
known. Those follow the recursion ``s[j + 1] = A^L s[j] + share[j]``, which the same closed form
solves :data:`GROUP_BLOCKS` blocks at a time; only the groups are a Python loop, one step per
``L * G`` = 4096 samples. The input is read as float32 and the Toeplitz product is float32 (a
block's outputs from its own inputs: an error of about 1e-7 of the signal's level, -140 dB); the
shares and the states, which carry the recursion across the whole stream, are float64. A NaN or
Inf makes its whole group (up to 4095 samples before it) and everything after it non-finite,
where ``sosfilt``'s output turns non-finite from the sample on: callers refuse such input.
"""

import functools

import attrs
import numpy as np

from voxregen_core.errors import InvalidParamsError

BLOCK_SAMPLES = 128
"""Samples per block: the Toeplitz product costs this many multiply-adds per sample."""

GROUP_BLOCKS = 32
"""Blocks whose start states one product gives from their group's start state."""

PIECE_SAMPLES = 1 << 16
"""Samples filtered at a time: their temporaries (about 2 MB for 10 states) stay small."""


@attrs.frozen(eq=False)
class Cascade:
    """A cascade of second-order sections as block matrices (build with :func:`cascade`)."""

    n_states: int
    """Two per section: the transposed direct form II's, in ``scipy.signal.sosfilt_zi``'s order."""
    a: np.ndarray
    """[shape=(n_states, n_states)], float64: one sample's state transition."""
    b: np.ndarray
    """[shape=(n_states,)], float64: one sample's input into the state."""
    block_impulse: np.ndarray
    """[shape=(L, L)], float32: a block's inputs into its outputs (the Toeplitz matrix of the
    impulse response)."""
    block_shares: np.ndarray
    """[shape=(L, n_states)], float64: a block's inputs into the next block's start state."""
    block_states: np.ndarray
    """[shape=(n_states, L)], float64: a block's start state into its outputs."""
    group_inputs: np.ndarray
    """[shape=(G * n_states, (G + 1) * n_states)], float64: each block's input share of the next
    state into the start states of the group's later blocks and of the next group."""
    group_states: np.ndarray
    """[shape=(n_states, G * n_states)], float64: a group's start state into its blocks' start
    states."""
    group_step: np.ndarray
    """[shape=(n_states, n_states)], float64: ``A^(L G)``, a group's start state into the next
    one's."""
    powers: np.ndarray
    """[shape=(L, n_states, n_states)], float64: ``A^r`` for ``r < L``."""

    def steady_state(self, level: float) -> np.ndarray:
        """The state of the cascade after a constant input of ``level`` forever (what
        ``scipy.signal.sosfilt_zi(sos) * level`` is). Returns [shape=(n_states,)], float64."""
        return np.linalg.solve(np.eye(self.n_states) - self.a, self.b * level)

    def filter(self, x: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x`` through the cascade from ``state``: the outputs and the state after the last
        input (pass it to the next call to filter a stream piece by piece).

        Parameters
        ----------
        x : np.ndarray [shape=(n_samples,)], float32 or int16 (read as its values); float64 is
            read as float32
        state : np.ndarray [shape=(n_states,)], float64: zeros for a cascade at rest,
            :meth:`steady_state` for one that has seen a constant

        Returns ``(y, state)``: y [shape=(n_samples,)], float32; state [shape=(n_states,)],
        float64, a new array. Raises InvalidParamsError for other shapes.
        """
        if x.ndim != 1 or np.shape(state) != (self.n_states,):
            raise InvalidParamsError(
                f"need x of shape (n_samples,) and a state of shape ({self.n_states},), "
                f"got {x.shape} and {np.shape(state)}"
            )
        y = np.empty(x.shape[0], np.float32)
        state = np.array(state, np.float64)
        for start in range(0, x.shape[0], PIECE_SAMPLES):  # pieces that stay in the caches
            piece = slice(start, start + PIECE_SAMPLES)
            state = self._filter_piece(x[piece], state, out=y[piece])
        return y, state

    def _filter_piece(self, x: np.ndarray, state: np.ndarray, *, out: np.ndarray) -> np.ndarray:
        """:meth:`filter` of one piece, its outputs into ``out``; returns the state after it."""
        n = x.shape[0]
        L, G, N = BLOCK_SAMPLES, GROUP_BLOCKS, self.n_states
        n_full, tail = divmod(n, L)
        n_groups = -(-(n_full + (tail > 0)) // G)
        blocks = np.zeros((n_groups * G, L), np.float32)
        blocks.reshape(-1)[:n] = x
        shares = (blocks @ self.block_shares).reshape(n_groups, G * N)  # float64
        within = shares @ self.group_inputs  # (groups, (G + 1) N)
        group_starts = np.empty((n_groups, N))
        start = state
        for g in range(n_groups):
            group_starts[g] = start
            start = self.group_step @ start + within[g, G * N :]
        starts = (group_starts @ self.group_states + within[:, : G * N]).reshape(-1, N)
        y = blocks @ self.block_impulse
        y += starts @ self.block_states
        out[:] = y.reshape(-1)[:n]
        final = starts[n_full] if n_full < starts.shape[0] else start  # after the last group
        if tail:  # the state after the last, partial block's inputs
            inputs = blocks.reshape(-1)[n_full * L : n]
            final = self.powers[tail] @ final + inputs @ self.block_shares[L - tail :]
        return final


def cascade(sos: np.ndarray) -> Cascade:
    """The block matrices of the second-order sections ``sos`` (built once for each ``sos``
    among the last 16, and read-only).

    Parameters
    ----------
    sos : np.ndarray [shape=(n_sections, 6)], rows ``[b0, b1, b2, 1, a1, a2]`` (SciPy's layout,
        normalized: ``a0 = 1``). Raises InvalidParamsError for another shape or ``a0``.
    """
    sos = np.asarray(sos, np.float64)
    if sos.ndim != 2 or sos.shape[0] == 0 or sos.shape[1] != 6 or not np.all(sos[:, 3] == 1.0):
        raise InvalidParamsError(
            f"sos must be (n_sections >= 1, 6) with a0 = 1 in each row, got shape {sos.shape}"
        )
    return _cascade(tuple(map(tuple, sos)))


@functools.lru_cache(maxsize=16)  # a worker sees many EQ settings: bounded
def _cascade(sos: tuple[tuple[float, ...], ...]) -> Cascade:
    n = 2 * len(sos)
    basis = np.vstack([np.eye(n), np.zeros(n)])
    inputs = np.append(np.zeros(n), 1.0)
    states, outputs = _step(sos, basis, inputs)  # one sample from each basis state, then input
    a, c = states[:n].T, outputs[:n]
    b, d = states[n], float(outputs[n])
    L, G = BLOCK_SAMPLES, GROUP_BLOCKS
    powers = np.empty((L + 1, n, n))
    powers[0] = np.eye(n)
    for r in range(1, L + 1):
        powers[r] = a @ powers[r - 1]
    impulse = np.concatenate([[d], c @ (powers[: L - 1] @ b).T])  # h[0] = D, h[k] = C A^(k-1) B
    lags = np.arange(L)[:, None] - np.arange(L)[None, :]  # output row minus input column
    toeplitz = np.where(lags >= 0, impulse[np.clip(lags, 0, None)], 0.0)  # [output, input]
    to_state = powers[L - 1 - np.arange(L)] @ b  # (L, n): input m into the next start state
    block_states = (c @ powers[:L]).T  # y[k] gets C A^k z
    step = powers[L]
    step_powers = np.empty((G + 1, n, n))
    step_powers[0] = np.eye(n)
    for j in range(1, G + 1):
        step_powers[j] = step @ step_powers[j - 1]
    group_inputs = np.zeros((G * n, (G + 1) * n))
    for i in range(G):  # block i's share reaches block j > i's start through step^(j - 1 - i)
        for j in range(i + 1, G + 1):
            group_inputs[i * n : (i + 1) * n, j * n : (j + 1) * n] = step_powers[j - 1 - i].T
    group_states = np.hstack(list(step_powers[:G].transpose(0, 2, 1)))
    matrices = {
        "a": a,
        "b": b,
        "block_impulse": toeplitz.T.astype(np.float32),
        "block_shares": to_state,
        "block_states": block_states,
        "group_inputs": group_inputs,
        "group_states": group_states,
        "group_step": step_powers[G],
        "powers": powers[:L],
    }
    for matrix in matrices.values():  # shared by every caller of the cache
        matrix.setflags(write=False)
    return Cascade(n_states=n, **matrices)


def _step(
    sos: tuple[tuple[float, ...], ...], states: np.ndarray, inputs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One sample through the sections in transposed direct form II, for a batch of (state,
    input) pairs: states [shape=(batch, 2 n_sections)], inputs [shape=(batch,)]."""
    following = np.empty_like(states)
    signal = inputs
    for k, (b0, b1, b2, _, a1, a2) in enumerate(sos):
        z1, z2 = states[:, 2 * k], states[:, 2 * k + 1]
        out = b0 * signal + z1
        following[:, 2 * k] = b1 * signal - a1 * out + z2
        following[:, 2 * k + 1] = b2 * signal - a2 * out
        signal = out
    return following, signal
