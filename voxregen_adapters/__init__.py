"""Adapters: the core's ports implemented over real technology (the command line and the
composition root that wires them are in :mod:`voxregen`)."""
