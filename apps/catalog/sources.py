"""Where a project comes from. Each project has one source (architecture.md, invariant 6): this
node (``local``: imported or uploaded) or one upstream, whose syncs alone may change it.

The catalog knows sources only by key; the app that owns a kind of source (replication, for
upstreams) registers how to list and name its keys, so the catalog depends on no other app.
"""

import time
from collections.abc import Callable

LOCAL = "local"
# Labels are read for every row of a list (the admin's, a run's shadowed projects): asked of
# the providers at most this often. An upstream renamed shows under its new name a bit later.
LABELS_SECONDS = 5.0

_providers: list[Callable[[], dict[str, str]]] = []
_labels: tuple[float, dict[str, str]] = (0.0, {})


def source_provider_register(provider: Callable[[], dict[str, str]]) -> None:
    """Add a function returning {key: label} of the sources an app owns (called when needed)."""
    if provider not in _providers:
        _providers.append(provider)


def source_choices() -> dict[str, str]:
    """Every source a project can be handed to: key → label."""
    choices = {LOCAL: "local (imported on this node)"}
    for provider in _providers:
        choices.update(provider())
    return choices


def source_label(key: str) -> str:
    """A person's name for the source, e.g. ``upstream pypi``; the key itself if unknown."""
    global _labels
    if key == LOCAL:
        return "local"
    read_at, labels = _labels
    if key not in labels or time.monotonic() - read_at > LABELS_SECONDS:
        labels = source_choices()
        _labels = (time.monotonic(), labels)
    return labels.get(key, key)
