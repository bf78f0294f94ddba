"""One error hierarchy (issue 16): every exception class the package defines derives from
``TruceWatchError``, and every parser reports bad records as one ``RecordProblem``.

Why walk the package: a new module with ``class FooError(ValueError)`` would silently escape
``except TruceWatchError``; importing every module and checking each exception class it
defines catches that the day it is written.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pathlib
import pkgutil

import pytest

import trucewatch
from trucewatch.errors import RecordProblem, RecordProblems, TruceWatchError

ROOT = pathlib.Path(trucewatch.__file__).resolve().parent


def _modules() -> list[str]:
    # a package's __main__ runs its command line when imported: it defines nothing to check
    return sorted(m.name for m in pkgutil.walk_packages(trucewatch.__path__, "trucewatch.")
                  if not m.name.endswith(".__main__"))


def _exception_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        mod = importlib.import_module(name)
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == mod.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def test_walk_finds_the_known_exceptions() -> None:
    """Guards the walk itself: if it found nothing, the next test could not fail."""
    names = {f"{c.__module__}.{c.__qualname__}" for c in _exception_classes()}
    assert {"trucewatch.store.store.StoreError", "trucewatch.agreement.spec.AgreementError",
            "trucewatch.ledger.merkle.MerkleError", "trucewatch.fusion.arrays.FusionInputError"} <= names
    assert len(names) > 30


def test_every_exception_class_derives_from_truce_watch_error() -> None:
    stray = [f"{c.__module__}.{c.__qualname__} ({', '.join(b.__name__ for b in c.__bases__)})"
             for c in _exception_classes() if not issubclass(c, TruceWatchError)]
    assert not stray, "derive these from trucewatch.errors.TruceWatchError:\n" + "\n".join(stray)


def test_no_exception_class_hides_in_a_function() -> None:
    """Classes defined inside functions escape the import walk; the AST sees them (named *Error)."""
    hidden = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden += [f"{path.relative_to(ROOT.parent)}:{c.lineno} {c.name}" for c in ast.walk(fn)
                           if isinstance(c, ast.ClassDef) and c.name.endswith(("Error", "Exception"))]
    assert not hidden, hidden


def test_old_bases_still_catch() -> None:
    """Callers that catch ValueError / RuntimeError keep working."""
    from trucewatch.ledger.log import LogError
    from trucewatch.store import StoreError

    assert issubclass(StoreError, ValueError) and issubclass(LogError, RuntimeError)


def test_public_record_error_names_are_the_one_type() -> None:
    from trucewatch.fusion import RecordError as FusionRecordError
    from trucewatch.sources.registry import FileError
    from trucewatch.store import RecordError as StoreRecordError

    assert FusionRecordError is RecordProblem and StoreRecordError is RecordProblem and FileError is RecordProblem


def test_no_other_record_problem_dataclass() -> None:
    """No module defines its own record/field/message dataclass again (the issue's four RecordErrors)."""
    dupes = []
    for name in _modules():
        mod = importlib.import_module(name)
        for obj in vars(mod).values():
            if (isinstance(obj, type) and obj.__module__ == mod.__name__ and dataclasses.is_dataclass(obj)
                    and obj is not RecordProblem):
                fields = {f.name for f in dataclasses.fields(obj)}
                if {"field", "message"} <= fields:
                    dupes.append(f"{name}.{obj.__qualname__}")
    assert not dupes, dupes


def test_record_problem_forms() -> None:
    p = RecordProblem.at_line(12, "lat", "95 is off the globe", prefix="fires.csv: ")
    assert str(p) == "fires.csv: line 12: lat: 95 is off the globe"
    assert p.as_dict() == {"record": "fires.csv: line 12", "field": "lat", "message": "95 is off the globe", "line": 12}
    assert p.to_json()["error"] == str(p)
    assert RecordProblem("obs-1", "signature", "missing").as_dict() == {
        "record": "obs-1", "field": "signature", "message": "missing"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.field = "lon"  # type: ignore[misc]


def test_record_problems_names_each_record() -> None:
    probs = [RecordProblem(f"line {i}", "time", "missing") for i in range(60)]
    exc = RecordProblems(probs, "observation(s)")
    assert isinstance(exc, TruceWatchError) and isinstance(exc, ValueError)
    text = str(exc)
    assert text.startswith("60 observation(s) rejected:") and "line 0: time: missing" in text
    assert "and 10 more" in text and exc.problems == probs
