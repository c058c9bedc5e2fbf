"""The test suite. Loaded before any test module or conftest, so it sets what must precede
NumPy's import: one OpenBLAS thread, as in every voxregen process
(:mod:`voxregen_adapters.blas_threads`). The bits of a matrix product depend on how many threads
OpenBLAS splits it over, so a render in a test's own process
(``tests.e2e.stack.uninterrupted_render``) gives a worker's bytes only with the worker's
setting."""

from voxregen_adapters.blas_threads import one_blas_thread

one_blas_thread()
