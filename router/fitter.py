"""`ContextFitter`: router/context.py's pure fit, fed with each model's window and ratio.

The window comes from `/api/show` (the checker caches it with the capabilities), else
`defaults.context_window`; `defaults.max_context` caps it. The ratio comes from `Calibration`
(Redis) and is moved by each answer's `prompt_eval_count`. The `num_ctx` last sent to a model is
remembered for the process and not undercut: Ollama reloads a model whose `num_ctx` changes.
"""

from __future__ import annotations

import threading

from registry.availability import model_key
from registry.calibration import Calibration
from router.context import (
    DEFAULT_CHARS_PER_TOKEN,
    Fit,
    calibrated,
    fit,
    stub_tool_output,
    user_num_ctx,
    window_for,
)

DEFAULT_MAX_CONTEXT = 8192
DEFAULT_CONTEXT_WINDOW = 4096  # assumed when /api/show does not say
LEAST_CONTEXT = 256


class ContextFitter:
    def __init__(self, registry, config, checker):
        self.checker = checker
        self.max_context = config.get_count("defaults", "max_context", DEFAULT_MAX_CONTEXT,
                                            least=LEAST_CONTEXT)
        self.default_window = config.get_count("defaults", "context_window",
                                               DEFAULT_CONTEXT_WINDOW, least=LEAST_CONTEXT)
        self.calibration = Calibration(registry, DEFAULT_CHARS_PER_TOKEN)
        self._sent: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def window(self, model, options: dict | None = None) -> int:
        return window_for(self.checker.context_length(model), self.max_context,
                          self.default_window, user_num_ctx(options))

    def fit(self, model, messages: list, options: dict | None = None, tool_chars: int = 0) -> Fit:
        key = model_key(model)
        with self._lock:
            floor = self._sent.get(key, 0)
        fitted = fit(messages, self.window(model, options), options=options, floor=floor,
                     chars_per_token=self.calibration.ratio(model), stub=stub_tool_output,
                     fixed_chars=tool_chars)
        if user_num_ctx(options) is None:
            with self._lock:
                self._sent[key] = max(floor, fitted.num_ctx)
        return fitted

    def observe(self, model, fitted: Fit, prompt_tokens: int | None) -> float:
        """Move the model's ratio toward what Ollama counted for the prompt just sent."""
        ratio = self.calibration.ratio(model)
        moved = calibrated(ratio, fitted.chars, len(fitted.messages), prompt_tokens)
        if moved != ratio:
            self.calibration.store(model, moved)
        return moved

