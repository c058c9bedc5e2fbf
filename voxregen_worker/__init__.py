"""The Dramatiq worker: the ``profile_build`` and ``render_job`` actors over the service's
ports (:mod:`voxregen_worker.actors`), run by :func:`voxregen_worker.main.run_worker`."""
