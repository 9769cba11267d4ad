"""Give freed heap memory back to the operating system."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from functools import cache
from typing import Any


@cache
def _trim() -> Callable[[int], Any] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim  # glibc
    except (OSError, AttributeError):
        return None


def release_free_memory() -> None:
    """Collect garbage, then ask glibc's allocator to return free heap pages (`malloc_trim`);
    a no-op without glibc. Loading an index allocates and frees temporaries (rows read from
    SQLite, vectors staged for FAISS, the previous generation); freed pages otherwise stay in
    the serving process's RSS."""
    gc.collect()
    trim = _trim()
    if trim is not None:
        trim(0)
