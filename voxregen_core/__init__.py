"""voxregen's pure core: domain model, DSP and the render pipeline over ports.

Nothing in this package performs I/O, logs, or imports a database, network, web or
queue library; adapters implement the ports in :mod:`voxregen_core.ports`.
"""
