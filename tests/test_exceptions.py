"""Every exception class the project defines survives pickle and copy.copy with its message.

Errors cross Ray worker boundaries by pickle (and Ray copies them): a class whose
__init__ takes other arguments than the message used to turn every trial error into
`TypeError: __init__() missing ... arguments`. The classes are found by walking the
packages, so a new exception class is covered without editing this test.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import pickle
import pkgutil

import pytest

PACKAGES = ("dabs_lib", "cli", "search_spaces", "trainables", "analysis")


def _project_exceptions() -> list[type[BaseException]]:
    found = {}
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        modules = [package] + [
            importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, f"{package_name}.")
            if not info.name.endswith("__main__")
        ]
        for module in modules:
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, BaseException) and cls.__module__.split(".")[0] in PACKAGES:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[name] for name in sorted(found)]


EXCEPTIONS = _project_exceptions()


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance with a distinct string for every required parameter."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    args = [
        f"<{p.name}>"
        for p in params
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return cls(*args) if args else cls("<message> with detail")


def test_the_walk_finds_the_known_classes():
    names = {cls.__name__ for cls in EXCEPTIONS}
    assert {"ManualDownloadError", "DatasetFileError", "ChecksumError", "UserError", "SearchSpaceError"} <= names


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
@pytest.mark.parametrize("how", ["pickle", "copy"])
def test_exception_survives_pickle_and_copy(cls, how):
    error = _instance(cls)
    again = pickle.loads(pickle.dumps(error)) if how == "pickle" else copy.copy(error)
    assert type(again) is cls
    assert str(again) == str(error) and str(error)
    assert again.args == error.args
    assert vars(again) == vars(error)
