"""router/lazy_langsmith.py: LangChain imports without langsmith's ~100 generated API types, and
every use of those types still works, only later. Each case runs in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.process  # each test imports in a fresh Python process

ROOT = Path(__file__).resolve().parent.parent


def in_child(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_langchain_imports_without_the_types_and_each_use_loads_them():
    seen = in_child("""
import sys
from router.lazy_langsmith import defer_langsmith_types
print(defer_langsmith_types(), defer_langsmith_types())
from langchain_ollama import ChatOllama
print("langsmith.types.run" in sys.modules)
import langsmith
print(langsmith.types.Run.__name__, "langsmith.types.run" in sys.modules)
from langsmith.types import Dataset
import langsmith.types as t
print(Dataset.__name__, t.run_select_field.__name__, t is sys.modules["langsmith.types"])
""")
    assert seen == ["True", "True", "False", "Run", "True", "Dataset",
                    "langsmith.types.run_select_field", "True"]


def test_a_missing_name_is_an_attribute_error_after_the_real_init():
    seen = in_child("""
from router.lazy_langsmith import defer_langsmith_types
defer_langsmith_types()
import langsmith.types as t
try:
    t.NoSuchType
except AttributeError as exc:
    print("AttributeError", hasattr(t, "Run"))
""")
    assert seen == ["AttributeError", "True"]


def test_too_late_is_a_no_op():
    seen = in_child("""
import sys
from langchain_ollama import ChatOllama
before = sys.modules.get("langsmith.types")
from router.lazy_langsmith import defer_langsmith_types
print(defer_langsmith_types(), sys.modules.get("langsmith.types") is before)
""")
    assert seen == ["False", "True"]
