"""The Starlette HTTP API: ``voxregen_http.app.create_app(service)``; see ``voxregen_http/openapi.yaml``."""
