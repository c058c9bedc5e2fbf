"""The Starlette HTTP API: ``voxregen_http.app.create_app(service)``; see ``docs/openapi.yaml``."""
