"""Timer steps run through the project's one isolation mechanism (``backend.common.isolation``):
a forked child with an address-space limit and a wall-clock kill."""

from backend.common.isolation import run_isolated

__all__ = ["run_isolated"]
