"""The entry points: the ``voxregen`` command (:mod:`voxregen.cli`), ``serve``'s supervisor
(:mod:`voxregen.supervisor`) and the one composition root that builds what they run from the
settings (:mod:`voxregen.composition`). Nothing in ``voxregen_core``, ``voxregen_adapters``,
``voxregen_http`` or ``voxregen_worker`` imports this package."""
