"""The composition root: the API's, the worker's and the CLI's dependencies, built from the
settings out of real adapters.

- :mod:`.service_parts`: the service (every port over PostgreSQL, Redis and the object store),
  the API's app, the worker's parts and its generator;
- :mod:`.local_render`: ``voxregen render``'s ports over a local folder (two modules, so that a
  local render imports no database, broker or web library).

Every builder takes keyword overrides with real defaults; tests pass fakes or their own
broker. Nothing connects at construction: the engine, the S3 client and the broker connect on
first use. Only the entry points (:mod:`voxregen.cli`) and the tests call these.
"""
