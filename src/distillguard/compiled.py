"""Compiled kernels: Numba, kept in its on-disk cache where there is somewhere to keep it.

A few inner loops (the combiner's forest walk, the content cohorts' MinHash) are compiled
with Numba, with the GIL released so threads can share the CPUs. Numba keeps compiled
code next to the source, or in the user's cache folder, or where NUMBA_CACHE_DIR says;
where none of them can be written (a read-only install, a container with no writable
home) caching raises when the module is imported, which took down every command, so the
kernel is then compiled in each process instead (about half a second).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(function: F) -> F:
    """`function` compiled with the GIL released, cached on disk when possible."""
    try:
        compiled = numba.njit(nogil=True, cache=True)(function)
    except RuntimeError:  # "cannot cache function ...: no locator available"
        compiled = numba.njit(nogil=True)(function)
    return cast(F, compiled)  # a Dispatcher, called as the function it compiles
