"""Routing across profiles: one call surface in front of several pipelines.

::

    profiles:
      smart: {route: {strategy: fallback, targets: [claude, openai, local]}}
      pool:  {route: {strategy: weighted, targets: [{profile: fw-a, weight: 3}, {profile: fw-b, weight: 1}]}}

``Pipeline.from_config(profile="smart")`` (and :meth:`Router.from_config`) return a
:class:`Router`; in Python, ``Router([pipe_a, pipe_b], strategy="fallback")``. Each call goes
to one target pipeline, and on to the next when it fails in a way ``fallback_on`` names;
a target that keeps failing cools down; each target's own rate limits apply (see
:class:`~chatpipe.config.RouteConfig`, which documents every rule; docs/routing.md). The
reply's ``route`` names the profile that answered.

Modules: ``_router`` (the Router), ``_choice`` (the strategies), ``_hops`` (one call's way
through the targets), ``_streams`` (routed streams).
"""

from __future__ import annotations

from ._router import Router

__all__ = ["Router"]
