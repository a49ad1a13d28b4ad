"""`fastest:<type>`: the model of a type with the best recent time to first token. Pure.

A preset's model may be the selector `fastest:general` (the shipped `fast` preset is). It means
the registered, sound model of that type whose answers in the answer log (newest first, as
`AnswerLog.recent` gives them) have the lowest median time to first token (registry/stats.py's
nearest-rank p50), over answers that came back whole. A model with no such answer is not
ranked; with none ranked at all the selector means the type's route.
"""

from __future__ import annotations

from typing import Iterable

from registry.stats import nearest_rank

MIN_ANSWERS = 1


def fastest_model(records: Iterable, models: Iterable, model_type: str):
    """The model (`ModelConfig`) of `model_type` answering first, or None when the log has no
    answer of any of them. Ties go to the model with more answers, then the older entry."""
    candidates = {m.model_id: m for m in models if not m.corrupt and m.model_type == model_type}
    ttfts: dict[str, list[int]] = {}
    for record in records:
        if record.status == "ok" and record.ttft_ms is not None and record.model_id in candidates:
            ttfts.setdefault(record.model_id, []).append(record.ttft_ms)
    ranked = [(nearest_rank(sorted(times), 0.5), -len(times), candidates[model_id].added_at,
               model_id) for model_id, times in ttfts.items() if len(times) >= MIN_ANSWERS]
    if not ranked:
        return None
    return candidates[min(ranked)[3]]
