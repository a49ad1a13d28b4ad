"""The page's image picker and thinking: an image picked on the page reaches the vision model
as `images`, "think first" sends `think`, and the reasoning shows apart from the answer. Debian's
headless Chromium through Playwright, as tests/test_web_browser.py."""

from __future__ import annotations

import base64

import pytest
from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from test_web_browser import page_opened_with_the_token
from web_support import web  # noqa: F401

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def test_page_sends_a_picked_image_and_shows_thinking_apart(web, cli, ollama_server, tmp_path):
    from playwright.sync_api import expect

    ollama_server.add_model("qwen2.5vl", ("completion", "vision", "thinking"))
    cli.json("model", "general", "add", ollama_server.url, "qwen2.5vl")
    photo = tmp_path / "cat.png"
    photo.write_bytes(PNG)
    ollama_server.reply_thinking("Looking at the pixels.", "A black square.")
    with page_opened_with_the_token(web, tmp_path) as (context, page):
        page.set_input_files("#images", str(photo))
        expect(page.locator("#attached")).to_contain_text("cat.png")
        page.check("#think")
        page.fill("#message", "what is this?")
        page.click("#send")
        answer = page.locator("#messages li.assistant").last
        expect(answer).to_have_attribute("data-done", "true")
        expect(answer.locator(".text")).to_have_text("A black square.")
        expect(answer.locator(".thinking")).to_have_text("Looking at the pixels.")
        expect(page.locator("#messages li.user").last.locator(".attachments")) \
            .to_contain_text("cat.png")
        expect(page.locator("#attached")).to_have_text("")  # sent: the picker is empty
        page.evaluate("""() => {  // an image pasted into the message box
            const data = new DataTransfer();
            const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0]);
            data.items.add(new File([bytes], "pasted.png", { type: "image/png" }));
            document.getElementById("message").dispatchEvent(
                new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
        }""")
        expect(page.locator("#attached")).to_contain_text("pasted.png")
    sent = ollama_server.chat_requests[-1].body
    assert sent["messages"][-1]["images"] == [base64.b64encode(PNG).decode()]
    assert sent["think"] is True
