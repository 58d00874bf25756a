"""The ASGI application object for servers: ``uvicorn coop.asgi:app``."""

from coop.app import create_app

app = create_app()
