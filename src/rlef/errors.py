"""The one exception type for bad input: a config value or a problem file the run cannot use.

Raised before any expensive work; `src/run.py` prints its message as one line and exits, with no
traceback (any other exception is a bug and keeps its traceback). A ValueError, so callers and
tests that expect ValueError still catch it.
"""


class BadInput(ValueError):
    pass


class ServiceError(RuntimeError):
    """A service the run depends on (a model server behind an API) failed for good, after its
    retries. `src/run.py` prints it as one line; the run's finished work is on disk, so the same
    command resumes."""
