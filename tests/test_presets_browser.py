"""The page's presets in a real headless Chromium: the panel follows presets added and removed
from an `ai-cli` subprocess without a reload, a preset is created on the page, and a chat sent
with the picker reaches the Ollama test server with the preset's settings."""

from __future__ import annotations

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from test_web_browser import page_opened_with_the_token
from web_support import web  # noqa: F401

pytestmark = pytest.mark.browser


def test_presets_panel_and_picker(web, cli, ollama_server, tmp_path):
    from playwright.sync_api import expect

    ollama_server.add_model("llama3")
    cli.json("model", "general", "add", ollama_server.url, "llama3")
    hostile = "<b>bold</b>"
    with page_opened_with_the_token(web, tmp_path) as (context, page):
        expect(page.locator("#live")).to_have_text("live")
        page.evaluate("window.__sameDocument = true")

        # A preset added from the shell appears, live, in the panel and the picker.
        cli.json("preset", "add", "shell-made", "-s", hostile, "-o", "temperature", "0.4")
        expect(page.locator("#preset-list li[data-preset=shell-made]")).to_contain_text(
            "temperature=0.4")
        expect(page.locator("#preset option[value=shell-made]")).to_have_count(1)
        assert page.locator("#preset-list b").count() == 0

        # Created on the page: name, model, system prompt, temperature.
        page.fill("#preset-name", "page-made")
        page.select_option("#preset-model", "llama3")
        page.fill("#preset-system", "Answer from the page preset.")
        page.fill("#preset-temperature", "0.3")
        page.click("#preset-add")
        expect(page.locator("#preset-list li[data-preset=page-made]")).to_have_count(1)
        made = {p["name"]: p for p in cli.json("preset", "list")}["page-made"]
        assert (made["model"], made["system"], made["options"]) == (
            "llama3", "Answer from the page preset.", {"temperature": 0.3})

        # A chat through the picker sends the preset's settings.
        page.select_option("#preset", "page-made")
        ollama_server.reply("Preset", " answer")
        page.fill("#message", "hi")
        page.click("#send")
        expect(page.locator("#messages li.assistant[data-done=true]")).to_contain_text(
            "Preset answer")
        body = ollama_server.chat_requests[-1].body
        assert body["messages"][0] == {"role": "system",
                                       "content": "Answer from the page preset."}
        assert body["options"]["temperature"] == 0.3

        # Removed from the shell: gone from the panel and the picker, no reload.
        cli.json("preset", "remove", "page-made")
        expect(page.locator("#preset-list li[data-preset=page-made]")).to_have_count(0)
        expect(page.locator("#preset option[value=page-made]")).to_have_count(0)
        assert page.evaluate("window.__sameDocument") is True
