"""The OpenAI-compatible gateway behind ``chatpipe serve`` (needs ``pip install 'chatpipe[serve]'``).

Any OpenAI client pointed at ``http://HOST:PORT/v1`` reaches every configured profile:
``model`` is a profile name, or ``<profile>/<vendor-model-id>``. Anthropic clients pointed at
``http://HOST:PORT`` reach the same profiles through ``POST /v1/messages``. The gateway holds
no state between requests, so it scales out as N worker processes or N machines behind any
load balancer. See docs/gateway.md.

Importing :mod:`chatpipe` never imports this package (nor Starlette).
"""

from __future__ import annotations

from ._app import create_app
from ._errors import GatewayError
from ._routing import Route, Router
from ._settings import GatewaySettings, is_loopback

__all__ = ["GatewayError", "GatewaySettings", "Route", "Router", "create_app", "is_loopback"]
