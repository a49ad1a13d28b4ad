"""What the gateway asks the Ollama servers themselves: `/api/tags` (sizes, digests, details of the
registered models), `/api/ps` (what is loaded), `/api/show` (one model's details). Each server is
asked once per request, in parallel, within `TIMEOUT` seconds; a server that does not answer is
left out (its models are still listed, without details), never an error of the whole request.
Requests go where the registry's URL says, never through a proxy.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

TIMEOUT = 3.0
MAX_SERVERS_AT_ONCE = 8


def _get_json(url: str, path: str, body: dict | None = None):
    import httpx

    try:
        with httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
            response = (client.post(url + path, json=body) if body is not None
                        else client.get(url + path))
        if response.status_code != 200:
            return None
        return response.json()
    except (httpx.HTTPError, ValueError):
        return None


def listed(urls: Iterable[str], path: str) -> dict[str, list[dict]]:
    """url -> the `models` list of `GET {url}{path}` (`/api/tags`, `/api/ps`), for the servers
    that answered in Ollama's shape."""
    urls = sorted(set(urls))
    if not urls:
        return {}
    with ThreadPoolExecutor(max_workers=min(len(urls), MAX_SERVERS_AT_ONCE)) as pool:
        answers = list(pool.map(lambda url: _get_json(url, path), urls))
    found = {}
    for url, answer in zip(urls, answers):
        models = answer.get("models") if isinstance(answer, dict) else None
        if isinstance(models, list):
            found[url] = [m for m in models if isinstance(m, dict)]
    return found


def load(url: str, model_name: str, keep_alive=None, timeout: float = 120.0) -> bool:
    """Ask the server to load the model (a chat with no messages, as Ollama's API documents),
    or unload it (`keep_alive` 0)."""
    import httpx

    body = {"model": model_name, "messages": [], "stream": False,
            **({"keep_alive": keep_alive} if keep_alive is not None else {})}
    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            return client.post(url + "/api/chat", json=body).status_code == 200
    except httpx.HTTPError:
        return False


def shown(url: str, model_name: str) -> dict | None:
    """`POST {url}/api/show` for one model, or None when the server did not answer with it."""
    answer = _get_json(url, "/api/show", {"model": model_name})
    return answer if isinstance(answer, dict) else None
