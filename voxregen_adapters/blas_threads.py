"""One BLAS thread per process: voxregen's own threads share the cores (glibc and OpenBLAS).

NumPy's OpenBLAS starts a thread per core for any large enough matrix product (the true-peak
interpolator's, in the limiter's loop), and after each product those threads spin, waiting for
the next, on the cores the render's own threads (:mod:`voxregen_core.parallelism`) are working
on. With one BLAS thread an 8-minute render's mastering takes the same wall time or less and
0.6 s less CPU (the limiter 0.68 -> 0.28 s of CPU, the dither that follows it 0.23 -> 0.12 s),
and the whole render 5.3 -> 4.5 s of user time (`/usr/bin/time voxregen render`).
"""

import os

_VARIABLE = "OPENBLAS_NUM_THREADS"


def one_blas_thread() -> None:
    """Ask OpenBLAS for one thread, unless the environment says otherwise. OpenBLAS reads this
    when it loads, so it must run before NumPy is first imported; it does nothing after."""
    os.environ.setdefault(_VARIABLE, "1")
