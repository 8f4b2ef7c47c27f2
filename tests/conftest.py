import os

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "0")

import tempfile

# The on-disk feature cache defaults to ~/.cache/dabs-tune; tests (and the CLI processes
# they start, which inherit the environment) use a private folder instead.
os.environ.setdefault("DABS_TUNE_CACHE", tempfile.mkdtemp(prefix="dabs-tune-test-cache-"))


@pytest.fixture(autouse=True)
def _user_domains_forgotten():
    """A user domain a test registers in this process (`--domain file.yaml` run in-process) is
    forgotten after it: the registry of domain files is process-wide."""
    from dabs_lib.userdomain import USER_DOMAIN_FILES

    before = dict(USER_DOMAIN_FILES)
    yield
    USER_DOMAIN_FILES.clear()
    USER_DOMAIN_FILES.update(before)
