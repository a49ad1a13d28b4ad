"""Python's cyclic garbage collector waits while ai-cli starts (issue 15).

Start-up builds about 100,000 objects that live as long as the process: LangChain's pydantic
models, rich, the command table. The collector runs after every 700 new objects and walks the
young ones, and now and then all of them, though none of these is garbage: measured with
`gc.callbacks`, about 8% of importing LangChain (~130 ms of a one-shot chat) and 5-8% of
`ai-cli model list` (~20 ms). Reference counting frees everything else as before; only garbage
in cycles waits.

`pause` is the first thing the `ai-cli` script does (cli/__main__.py). `resume` freezes what is
alive then, so later collections never walk it again (what `gc.freeze` is for), and turns the
collector back on. The warm-up calls it when its imports are done, so the REPL, `serve` and every
command that talks to a model collect as usual from then on, and the wizard calls it before its
first question. A one-shot command that starts neither (`model list`) ends soon, with the
collector still paused.
"""

from __future__ import annotations

import gc


def pause() -> None:
    gc.disable()


def resume(collect: bool = False) -> None:
    """Collect as usual from now on; what is alive now is never walked again. Safe from any
    thread and more than once.

    `collect`: first free start-up's garbage in cycles (about 60,000 objects after LangChain's
    import, ~50 ms), for a process that lasts (the REPL, `serve`); frozen, it would be kept for
    good. A one-shot command ends before that memory would be missed."""
    if collect:
        gc.collect()
    gc.freeze()
    gc.enable()
