import os

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "0")

import atexit
import shutil
import tempfile

from tests.analysis.search_fixture import SHARED_ENV


def _private_folder(variable: str, prefix: str) -> None:
    """A temp folder for `variable` unless it is set. Set here, in the process that starts
    pytest-xdist's workers, before it starts them: they (and the CLI processes tests start)
    inherit it and share the folder; this process outlives them and removes it."""
    if not os.environ.get(variable):
        os.environ[variable] = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, os.environ[variable], True)


# The on-disk feature cache defaults to ~/.cache/dabs-tune; tests use a private one.
_private_folder("DABS_TUNE_CACHE", "dabs-tune-test-cache-")
# What is built once per test run (search_fixture.built_once).
_private_folder(SHARED_ENV, "dabs-tune-test-shared-")


@pytest.fixture(autouse=True)
def _user_domains_forgotten():
    """A user domain a test registers in this process (`--domain file.yaml` run in-process) is
    forgotten after it: the registry of domain files is process-wide."""
    from dabs_lib.userdomain import USER_DOMAIN_FILES

    before = dict(USER_DOMAIN_FILES)
    yield
    USER_DOMAIN_FILES.clear()
    USER_DOMAIN_FILES.update(before)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow tests run first, each file's tests kept together and in order. `make test`
    hands whole files to its workers (`--dist loadfile`) in this order, so the long end-to-end files
    start early and the many short files fill in at the end, instead of one long file running
    alone while the other worker idles."""
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    order = {path: index for index, path in enumerate(dict.fromkeys(item.path for item in items))}
    items.sort(key=lambda item: (item.path not in slow_files, order[item.path]))
