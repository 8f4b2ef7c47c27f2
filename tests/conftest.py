import os

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "0")

import tempfile

# The on-disk feature cache defaults to ~/.cache/dabs-tune; tests (and the CLI processes
# they start, which inherit the environment) use a private folder instead.
os.environ.setdefault("DABS_TUNE_CACHE", tempfile.mkdtemp(prefix="dabs-tune-test-cache-"))
