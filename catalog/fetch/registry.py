"""Registries of protocol steps, auth schemes, resolvers and host limits, filled by provider plugins.

Plugins are modules named by the ``eocat.fetch`` entry-point group (see ``pyproject.toml``); each exposes
a ``register()`` callable. The catalogue never imports a provider: providers register themselves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib.metadata import entry_points

from catalog.fetch.job import Planner, Resolver, Step
from catalog.fetch.session import AuthFactory

log = logging.getLogger("eocat.fetch")

STEPS: dict[str, Step] = {}
PLANNERS: dict[str, Planner] = {}
AUTH: dict[str, AuthFactory] = {}
RESOLVERS: list[Resolver] = []
HOST_LIMITS: list[Callable[[], dict[str, int]]] = []
_loaded = False
_lock = threading.Lock()


def register_step(protocol: str, step: Step) -> None:
    """Materialize assets whose ``eocat:protocol`` is ``protocol`` with ``step``."""
    STEPS[protocol] = step


def register_planner(protocol: str, planner: Planner) -> None:
    """Show ``planner`` every asset of ``protocol`` a run will fetch, before its steps start (batching)."""
    PLANNERS[protocol] = planner


def register_auth(scheme: str, factory: AuthFactory) -> None:
    """Build the authenticator of ``auth:refs`` entry ``scheme`` with ``factory(session, scheme_doc)``."""
    AUTH[scheme] = factory


def register_resolver(resolver: Resolver) -> None:
    """Add a resolver for keys/patterns that are not (yet) assets of the item."""
    if resolver not in RESOLVERS:
        RESOLVERS.append(resolver)


def register_host_limits(limits: Callable[[], dict[str, int]]) -> None:
    """Add per-host connection limits (evaluated when a session starts: endpoints may come from env)."""
    if limits not in HOST_LIMITS:
        HOST_LIMITS.append(limits)


def load_plugins() -> None:
    """Import every ``eocat.fetch`` entry point once and call its ``register()``."""
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
        for entry in entry_points(group="eocat.fetch"):
            try:
                entry.load()()
            except Exception as exc:  # a broken plugin must not break the others
                log.warning("fetch plugin %s failed to load: %s", entry.name, exc)
