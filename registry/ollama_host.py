"""`OLLAMA_HOST`, read as Ollama itself reads it, and URLs typed without a scheme. Pure.

Ollama's client (envconfig.Host) takes `host`, `host:port` or `scheme://host[:port]`: no scheme
means http and port 11434; `http://host` alone means port 80 and `https://host` port 443; an
empty value means 127.0.0.1:11434. ai-cli reads it the same way, so `OLLAMA_HOST=box:11500`
means one server to both programs, and a URL typed as `localhost:11434` gets `http://`.
"""

from __future__ import annotations

from typing import Mapping

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11434
SCHEME_PORTS = {"http": 80, "https": 443}


def parse_ollama_host(text: str) -> str:
    """`text` as an Ollama base URL (`scheme://host:port[/path]`), the way Ollama parses
    OLLAMA_HOST. An unknown scheme is kept: validate_url says what is wrong with it."""
    text = text.strip()
    scheme, sep, rest = text.partition("://")
    port = DEFAULT_PORT
    if not sep:
        scheme, rest = "http", text
    else:
        port = SCHEME_PORTS.get(scheme.lower(), DEFAULT_PORT)
    hostport, slash, path = rest.partition("/")
    host, found_port = _split_host_port(hostport)
    if found_port is not None:
        port = found_port
    host = host or DEFAULT_HOST
    if ":" in host:  # an IPv6 address goes in brackets
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}" + (f"/{path}".rstrip("/") if slash else "")


def ollama_host(env: Mapping[str, str]) -> str | None:
    """The server OLLAMA_HOST names, or None when it is not set."""
    value = env.get("OLLAMA_HOST", "").strip()
    return parse_ollama_host(value) if value else None


def default_ollama_url(env: Mapping[str, str]) -> str:
    """Where a model server is looked for when nothing says: OLLAMA_HOST, else Ollama's own
    default, 127.0.0.1:11434."""
    return ollama_host(env) or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def with_scheme(url: str) -> str:
    """A URL typed without a scheme (`localhost:11434`, `box`) as Ollama would read it
    (`http://localhost:11434`, `http://box:11434`); one with a scheme as it is."""
    return url if "://" in url else parse_ollama_host(url)


def _split_host_port(hostport: str) -> tuple[str, int | None]:
    if hostport.startswith("["):  # [::1]:11434 or [::1]
        host, _, after = hostport[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    elif hostport.count(":") == 1:
        host, port_text = hostport.split(":")
    else:  # a bare IPv6 address, or no port
        host, port_text = hostport, ""
    if port_text.isdigit() and 0 <= int(port_text) <= 65535:
        return host, int(port_text)
    return host, None  # Ollama: an invalid port means the default
