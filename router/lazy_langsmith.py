"""`langsmith.types` loaded when something uses it, not whenever LangChain is imported.

Importing `langchain_ollama` imports `langchain_core.tracers`, which imports `langsmith.run_trees`,
whose `_internal._v2_migration_utils` needs one enum: `langsmith.types.run_select_field`. Importing
that submodule first runs the package's `__init__`, which imports every one of the generated API
types of the LangSmith service, each a pydantic model built at import: a large share of the
instructions, page faults and CPU time of `from langchain_ollama import ChatOllama`
(bench/README.md has the figures); `ai-cli chat` never uses any of those types.

`defer_langsmith_types()` puts a stand-in package for `langsmith.types` in `sys.modules` before
LangChain is imported: submodules still import normally (the stand-in has the package's
`__path__`), and the first use of a name the real `__init__` defines runs that `__init__` into the
stand-in, so every use works exactly as before, only later. It does nothing when langsmith is not
installed, is laid out differently, or was imported already. The upstream fix is for
`_v2_migration_utils` not to need the package's `__init__`; when it does not, this is a no-op.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import types

NAME = "langsmith.types"
_lock = threading.Lock()


def defer_langsmith_types() -> bool:
    """Install the stand-in; True when it is in place (now or already)."""
    with _lock:
        present = sys.modules.get(NAME)
        if present is not None:
            return getattr(present, "__ai_cli_deferred__", False)
        if "langsmith.run_trees" in sys.modules:
            return False  # LangChain came first: nothing left to save
        try:
            stand_in = _stand_in()
        except Exception:  # any surprise in langsmith's layout: import it the usual way
            return False
        if stand_in is None:
            return False
        sys.modules[NAME] = stand_in
        return True


def _stand_in() -> types.ModuleType | None:
    try:
        import langsmith  # its own __init__ is light: its names load on first use, too
    except ImportError:
        return None
    spec = importlib.util.find_spec(NAME)  # found through langsmith's __path__, not run
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return None
    module = importlib.util.module_from_spec(spec)  # its __path__, __spec__, __file__; not run
    module.__ai_cli_deferred__ = True
    loaded = threading.Lock()

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        with loaded:
            if module.__dict__.get("__getattr__") is __getattr__:
                del module.__dict__["__getattr__"]
                spec.loader.exec_module(module)  # the real __init__, into the stand-in
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {NAME!r} has no attribute {name!r}") from None

    module.__getattr__ = __getattr__
    langsmith.types = module  # as the import system would have bound it
    return module
