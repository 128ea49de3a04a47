"""One result style for the NumPy side: a frozen record that reads by attribute or by
key.

Every function that returns several named numbers (step-size bounds, certificates, the
constants of a layer, the outcome of a fixed-point solve) returns a frozen dataclass
derived from :class:`Record`. Attribute access (``bounds.alpha_opt``) is the style the
book uses; key access (``bounds["alpha_opt"]``), ``dict(bounds)`` and ``bounds.keys()``
also work, so a record can be used wherever the dict of earlier versions was, and it
prints its fields by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

__all__ = ["Record"]


class Record(Mapping):
    """Mixin for frozen dataclasses: the fields shown in the repr are also the mapping's
    keys."""

    def _field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if f.repr)

    def __getitem__(self, key):
        if key not in self._field_names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(self._field_names())

    def __len__(self) -> int:
        return len(self._field_names())
