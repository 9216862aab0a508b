"""The ASGI application: pings, REST API, health endpoints."""
