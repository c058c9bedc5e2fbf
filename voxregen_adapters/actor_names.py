"""Names of the queue's actors: the API enqueues by these names, the worker declares them."""

PROFILE_BUILD = "profile_build"
"""Build a singer profile from its references; message args: (user_id, profile_id) as strings."""

RENDER_JOB = "render_job"
"""Render one job; message args: (user_id, job_id) as strings."""

RENDER_CHUNK = "render_chunk"
"""Generate and store one chunk of a running job (fanned out by ``render_job``); message args:
(user_id, job_id, chunk_index) as (str, str, int)."""

ALL = (PROFILE_BUILD, RENDER_JOB, RENDER_CHUNK)
