"""The ASGI application object for servers: ``uvicorn coop.asgi:app --no-proxy-headers``.

The application itself believes X-Forwarded-For from the proxies in
``COOP_AUTH_TRUSTED_PROXIES`` only; a server that rewrites the client address from that
header first (uvicorn does for 127.0.0.1 unless told not to) would undo that.
"""

from coop.app import create_app

app = create_app()
