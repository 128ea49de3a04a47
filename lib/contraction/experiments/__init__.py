"""The book's experiments, run as ``python -m contraction.experiments NAME --mode
full|fast``.

An experiment is a function ``experiment(mode) -> dict`` registered under a name with
:func:`register` in any module of this package (modules are found and imported when the
package is imported; a new chapter only adds a file). It returns::

    {"metrics": {...}, "config": {...}, "data_used": "which data, in words",
     "data_checksum": "sha256 of the tensors used (optional)"}

:func:`run` calls it, times it and writes ``results/NAME.json`` through
:func:`contraction.nn.results.record_results`; a notebook shows that file next to the
fast run it has just done (book/building.md). Experiment modules import torch inside
their functions, so that ``--list`` stays quick.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import re
import time

from .. import runtime

__all__ = [
    "EXPERIMENTS",
    "register",
    "register_parts",
    "run",
    "check_mode",
    "check_part",
    "merge_runs",
    "seed_mean",
    "seed_std",
]

EXPERIMENTS: dict = {}
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def register(name: str):
    """Decorator adding ``experiment(mode) -> dict`` to :data:`EXPERIMENTS` under
    ``name``."""
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"name must be letters, digits, '_' or '-' (a file name), got {name!r}"
        )

    def decorate(experiment):
        if not callable(experiment):
            raise TypeError(f"experiment {name!r} must be callable")
        if name in EXPERIMENTS and EXPERIMENTS[name] is not experiment:
            raise ValueError(f"an experiment named {name!r} is already registered")
        EXPERIMENTS[name] = experiment
        return experiment

    return decorate


def _check_outcome(name: str, outcome) -> dict:
    if not isinstance(outcome, dict) or not isinstance(outcome.get("metrics"), dict):
        raise TypeError(f"experiment {name!r} must return a dict with a 'metrics' dict")
    unknown = set(outcome) - {"metrics", "config", "data_used", "data_checksum"}
    if unknown:
        raise ValueError(f"experiment {name!r} returned unknown keys {sorted(unknown)}")
    if not isinstance(outcome.get("data_used"), str):
        raise ValueError(
            f"experiment {name!r} must say which data it used ('data_used')"
        )
    return {"config": {}, **outcome}


def run(name: str, mode: str | None = None, results_dir=None):
    """Run experiment ``name`` in ``mode`` (default :func:`contraction.runtime.mode`).

    Records its metrics with provenance and returns the path of the results file.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}")
    mode = runtime.mode() if mode is None else mode
    if mode not in runtime.MODES:
        raise ValueError(f"mode must be one of {runtime.MODES}, got {mode!r}")
    start = time.perf_counter()
    outcome = _check_outcome(name, EXPERIMENTS[name](mode))
    wall_time = time.perf_counter() - start
    from ..nn.results import record_results  # torch is needed from here on only

    return record_results(
        name,
        outcome["metrics"],
        outcome["config"],
        wall_time,
        outcome["data_used"],
        mode,
        results_dir=results_dir,
        data_checksum=outcome.get("data_checksum"),
    )


def check_mode(settings: dict, mode):
    """``mode`` if it names one of ``settings`` (an experiment's SETTINGS), else
    ValueError."""
    if mode not in settings:
        raise ValueError(f"mode must be one of {sorted(settings)}, got {mode!r}")
    return mode


def check_part(parts: dict, part):
    """``part`` if it is None (the whole experiment) or names one of ``parts`` (the
    pieces of a run recorded side by side, one per core), else ValueError."""
    if part is not None and part not in parts:
        raise ValueError(f"part must be one of {sorted(parts)}, got {part!r}")
    return part


def register_parts(parts: dict, run_part, what: str):
    """Register ``run_part(mode, part)`` as the experiment ``part`` for every name of
    ``parts``; ``what`` describes the whole run (for ``--list``)."""
    for part in parts:

        def experiment(mode, part=part):
            return run_part(mode, part)

        experiment.__doc__ = f"{what}: the part {part} of PARTS."
        register(part)(experiment)


def merge_runs(records, summarize):
    """``summarize`` of the runs of all ``records`` (the parts of one experiment)."""
    return summarize([run for record in records for run in record["metrics"]["runs"]])


def seed_mean(values):
    """Mean over seeds (entrywise for lists); None if any value is None."""
    if any(v is None for v in values):
        return None
    if isinstance(values[0], (list, tuple)):
        return [sum(column) / len(column) for column in zip(*values)]
    return sum(values) / len(values)


def seed_std(values):
    """Sample standard deviation over seeds (ddof 1, entrywise for lists); None for one
    seed."""
    if len(values) < 2 or any(v is None for v in values):
        return None
    if isinstance(values[0], (list, tuple)):
        return [seed_std(list(column)) for column in zip(*values)]
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


_discover()
