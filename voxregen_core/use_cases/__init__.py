"""The service's use cases: each business rule of the API and the worker, written once, as a
function of :class:`~voxregen_core.ports.ServicePorts` and typed values that returns domain
objects or raises the core's errors.

- :mod:`.profiles`: create a profile, get it, prepare and commit a reference;
- :mod:`.render_jobs`: prepare an upload, create, get, clone and download a job; fail a job,
  and the profile a running job may render with;
- :mod:`.uploads`: what an upload must be (a key the caller owns, a size the service accepts)
  and how long a presigned URL works.

HTTP routes turn a request into one call and its answer into JSON; worker actors turn a
message into calls; neither decides what a second caller would decide again.
"""
