"""Django's ASGI handler, telling a request when its client disconnects.

Django already notices a disconnect while a view runs and stops waiting for it, but a
synchronous view keeps running in its thread, and so does its PostgreSQL statement.
Here each request carries a `ClientGone` (`request.client_gone`) that is set at that
moment, so a view can have its running statement cancelled and skip the work nobody
will read (see `launch.db.cancel_queries_when_gone`, used by the chat routes).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.http import HttpRequest

from launch.db import ClientGone

# Set in `handle`'s context before Django starts its two tasks (the view, the disconnect
# listener), which both inherit it: that is how the listener finds its request's signal.
_client_gone: ContextVar[ClientGone | None] = ContextVar("client_gone", default=None)


class ASGIHandler(DjangoASGIHandler):
    def create_request(self, scope: Any, body_file: Any) -> Any:
        request, error = super().create_request(scope, body_file)
        if request is not None:
            gone = ClientGone()
            request.client_gone = gone  # type: ignore[attr-defined]
            _client_gone.set(gone)
        return request, error

    async def listen_for_disconnect(self, receive: Any) -> Any:
        try:
            return await super().listen_for_disconnect(receive)
        except RequestAborted:
            gone = _client_gone.get()
            if gone is not None:
                gone.set()
            raise


def client_gone(request: HttpRequest | Any) -> ClientGone | None:
    """The request's disconnect signal; None outside ASGI (WSGI, the test client)."""
    gone = getattr(request, "client_gone", None)
    return gone if isinstance(gone, ClientGone) else None
