"""Plugins: what other Python packages add to TruceWatch through entry points.

A mission adds a source adapter, a rule, an export format or a report section
without forking: its package declares an entry point in one of :data:`GROUPS`
(``[project.entry-points."trucewatch.rules"]`` in its pyproject.toml) naming an
object, or a list of objects, of the kind that group's registry holds:

==========================  ===========================================  ==========================================
group                       object                                       registry
==========================  ===========================================  ==========================================
``trucewatch.sources``      ``sources.registry.SourceAdapter``           ``trucewatch.sources.registry``
``trucewatch.rules``        a ``RuleCheck`` (e.g. ``PerRule``)           ``trucewatch.adjudication.rules``
``trucewatch.exports``      a format module or object (NAME, SUFFIXES,   ``trucewatch.exports``
                            MEDIA_TYPE, EXT, write)
``trucewatch.report_sections``  ``report.sections.ReportSection``        ``trucewatch.report.sections``
==========================  ===========================================  ==========================================

This module sits low (it imports only the model) so that every registry can use it.
Why a hook into the model: an agreement naming a plugin's rule, or a stored source
of a plugin's kind, may be read before any registry was asked for its plugins; the
first unknown kind loads every plugin so their kinds are declared (``declare_kinds``)
before the value is judged.  A plugin that fails to load is an error that names it,
never a silent drop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from trucewatch.errors import TruceWatchError
from trucewatch.model import KIND_RESOLVERS

#: Short name -> entry point group.
GROUPS: dict[str, str] = {
    "sources": "trucewatch.sources",
    "rules": "trucewatch.rules",
    "exports": "trucewatch.exports",
    "report_sections": "trucewatch.report_sections",
}


class PluginError(TruceWatchError, RuntimeError):
    """A plugin that cannot be loaded or does not provide what its group needs."""


@dataclass(frozen=True)
class Plugin:
    """One object a distribution added to a group."""

    group: str  # short name (GROUPS key)
    entry_point: str  # the entry point's name
    distribution: str  # "name version" of the package that declares it
    value: Any


_CACHE: dict[str, list[Plugin]] = {}
_LOCK = threading.RLock()


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "?"
    return f"{dist.metadata['Name']} {dist.version}"


def load(group: str) -> list[Plugin]:
    """The objects every installed distribution declares for ``group`` (cached), each
    with its kinds declared to the model.  Raises :class:`PluginError` naming the entry
    point when one cannot be imported."""
    if group not in GROUPS:
        raise PluginError(f"plugin group {group!r} is not one of {', '.join(GROUPS)}")
    with _LOCK:
        if group in _CACHE:
            return list(_CACHE[group])
        found: list[Plugin] = []
        for ep in sorted(entry_points(group=GROUPS[group]), key=lambda e: e.name):
            try:
                value = ep.load()
            except Exception as exc:  # any import error of foreign code: named, not swallowed
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) in group {GROUPS[group]}: cannot be loaded: "
                                  f"{type(exc).__name__}: {exc}") from exc
            values = list(value) if isinstance(value, list | tuple) else [value]
            for v in values:
                declare = getattr(v, "declare_kinds", None)
                if callable(declare):
                    declare()
                found.append(Plugin(group, ep.name, _distribution(ep), v))
        _CACHE[group] = found
        return list(found)


def load_all() -> dict[str, list[Plugin]]:
    """Every group's plugins (what ``trucewatch plugins`` lists)."""
    return {g: load(g) for g in GROUPS}


def reset() -> None:
    """Forget what was loaded (tests that put a plugin on ``sys.path``); the next
    unknown kind or registry call looks again."""
    with _LOCK:
        _CACHE.clear()
        if _declare_all_kinds not in KIND_RESOLVERS:
            KIND_RESOLVERS.append(_declare_all_kinds)


def _declare_all_kinds() -> None:
    for g in GROUPS:
        load(g)


KIND_RESOLVERS.append(_declare_all_kinds)

__all__ = ["GROUPS", "Plugin", "PluginError", "load", "load_all", "reset"]
