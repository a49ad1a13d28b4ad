"""Choosing a ChatOllama per request type, with the fallback chain (docs/ROUTER.md).

    from router import Router, Route, Features
    router = Router(registry, config, AvailabilityChecker(registry, config.probe_timeout,
                                                          config.availability_ttl))

Importing this package does no I/O and does not import langchain (that happens at the first call).
"""

from router.chain import Route
from router.features import Features
from router.router import Router

__all__ = ["Features", "Route", "Router"]
