"""Reading config.yaml: the parse (safe, bounded), each key's line for error messages, and the
parse cache (registry/config/cache.py). Reads the file only; knows nothing of the settings in it.

A config file is a few dozen nodes. Aliases may repeat a node; expanded past `MAX_NODES` nodes the
file is refused (a "billion laughs" of nested aliases would otherwise take the time and memory of
every expansion), as is nesting deeper than `MAX_DEPTH`.
"""

from __future__ import annotations

from pathlib import Path

from registry.config.user_dirs import user_data_dir
from registry.errors import ConfigError

MAX_NODES = 10_000
MAX_DEPTH = 64


def read_yaml(path: Path) -> tuple[dict, dict]:
    """The parsed file and the line of every mapping key and list item in it: from the parse
    cache when the file's text is the one last parsed (registry/config/cache.py), else parsed."""
    from registry.config import cache as config_cache

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text.") from None
    cache = user_data_dir() / config_cache.CACHE_FILE
    cached = config_cache.lookup(cache, path, text)
    if cached is not None:
        return cached
    data, lines = _parse_yaml(path, text)
    config_cache.store(cache, path, text, data, lines)
    return data, lines


def _parse_yaml(path: Path, text: str) -> tuple[dict, dict]:
    import yaml  # here, not at the top: most runs have no config.yaml, or its parse is cached

    try:
        node, data = _parse(yaml, text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: {problem}. Fix the YAML and retry.") from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}, line 1: the file must be a mapping of sections.")
    lines: dict[tuple, int] = {}
    _collect_lines(node, (), lines)
    return data, lines


def _parse(yaml, text: str):
    """The document's node tree (for line numbers) and its data, from one parse: libyaml's C
    parser when PyYAML has it (its wheels do), else the pure-Python one; both safe. Composing
    keeps an alias as a second reference to its node, so it costs nothing; the tree is then
    walked with every alias expanded, and refused past MAX_NODES nodes or MAX_DEPTH levels,
    before anything (constructing, line numbers, the parse cache) expands it for real."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_size(yaml, node)
        return node, None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


def _check_size(yaml, root) -> None:
    """Raise a YAMLError when the expanded tree passes MAX_NODES or MAX_DEPTH, marked at the
    top-level entry it happens under (an alias's node keeps its anchor's place)."""
    count = 0
    stack = [(root, 1, root.start_mark)]
    while stack:
        node, depth, origin = stack.pop()
        count += 1
        if count > MAX_NODES or depth > MAX_DEPTH:
            problem = (f"its aliases expand to more than {MAX_NODES:,} values"
                       if count > MAX_NODES else f"it nests deeper than {MAX_DEPTH} levels")
            raise yaml.MarkedYAMLError(problem=problem, problem_mark=origin)
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            continue
        stack.extend((child, depth + 1, child.start_mark if depth == 1 else origin)
                     for child in children)


def _collect_lines(node, path: tuple, lines: dict) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = path + (key_node.value,)
            lines[child] = key_node.start_mark.line + 1
            _collect_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _collect_lines(item, path + (i,), lines)
