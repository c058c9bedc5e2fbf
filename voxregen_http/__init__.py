"""The Starlette HTTP API (arrives with the service milestone; see the README's roadmap)."""
