"""The HTTPS API: one FastAPI app (Mangum in Lambda, uvicorn locally). Build it with `create_app()`."""

from crimecast.api.app import create_app

__all__ = ["create_app"]
