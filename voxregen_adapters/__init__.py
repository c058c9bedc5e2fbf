"""Adapters: the core's ports implemented over real technology, and the command line."""
