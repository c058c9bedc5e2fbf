"""Emptying a test's Redis namespace: Dramatiq's ``flush_all`` drops the queues' messages but
leaves the rest (heartbeats, the render backlog); a test's namespace is its own, so all of it
goes."""

import redis


def delete_namespace(client: redis.Redis, namespace: str) -> None:
    """Delete every key under ``namespace:``."""
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)
