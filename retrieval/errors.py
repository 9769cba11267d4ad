"""The retrieval layer's exceptions, in one place."""


class RetrievalError(Exception):
    """Base class of every error raised by the retrieval layer."""


class EmptyQuery(RetrievalError, ValueError):
    """The question was empty, whitespace, or had no searchable characters."""


class IndexNotReady(RetrievalError):
    """No index has been built yet (run `python -m retrieval build`)."""


class IndexCorrupt(RetrievalError):
    """An index version on disk is unreadable or inconsistent with its manifest."""


class IndexMismatch(RetrievalError):
    """The index was built with another embedding model or dimension than the one loaded."""


class BuildInProgress(RetrievalError):
    """Another index build holds the build lock."""


class ModelUnavailable(RetrievalError):
    """The embedding model could not be found or built."""


class StoreUnavailable(RetrievalError):
    """The database cannot be reached (a PostgreSQL restart, a network cut); nothing was
    written. Connections are checked before use, so the next call after it returns works."""
