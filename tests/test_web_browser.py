"""The page in a real headless Chromium (Debian's, driven by Playwright; no browser download).

Adds a model on the page, sees it active, chats and sees the streamed answer, then switches the
active model from an `ai-cli` subprocess and sees the page follow without a reload.
Screenshots go to the test's tmp dir. A machine without /usr/bin/chromium fails this test
(scripts/test installs it when run as root): it is never skipped.
"""

from __future__ import annotations

from contextlib import contextmanager

import os
from pathlib import Path

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from web_support import web  # noqa: F401

pytestmark = pytest.mark.browser  # Chromium, through Playwright

CHROMIUM = "/usr/bin/chromium"
# Without these Chromium reaches for outside hosts, which these machines refuse (and must never
# be asked to reach).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 20_000


def open_browser(playwright, profile: Path):
    assert os.path.exists(CHROMIUM), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; "
        "scripts/test does it when run as root)")
    # A fresh profile: Playwright passes it as --user-data-dir.
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
        viewport={"width": 1280, "height": 860})


@contextmanager
def page_opened_with_the_token(web, tmp_path):
    """(browser context, page) after opening the printed address, its token in the URL."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = open_browser(playwright, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(f"{web.url}/?token={web.token}")
            yield context, page
        finally:
            context.close()


def test_page_adds_chats_and_follows_the_cli(web, cli, ollama_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ollama_server.add_model("llama3")
    ollama_server.add_model("mistral")
    other = cli.json("model", "general", "add", ollama_server.url, "mistral", "--no-activate")
    hostile = "<img/src=x/onerror=window.__owned=1><b>bold</b>"
    cli.json("model", "general", "add", ollama_server.url, hostile, "--no-activate", "--force")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as playwright:
        context = open_browser(playwright, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(WAIT_MS)
            outside = []
            page.on("request", lambda r: None if r.url.startswith(web.url) else outside.append(r.url))
            page.goto(f"{web.url}/?token={web.token}")  # as serve prints it
            expect(page.locator("#live")).to_have_text("live")
            page.evaluate("window.__sameDocument = true")
            # A model name is text on the page, never markup.
            expect(page.locator("table[data-type=general]")).to_contain_text(hostile)
            assert page.locator("table[data-type=general] b, table[data-type=general] img").count() == 0
            assert page.evaluate("window.__owned") is None
            page.screenshot(path=str(shots / "1-start.png"), full_page=True)

            # Add a model: URL -> Discover -> pick -> Add.
            page.fill("#add-url", ollama_server.url)
            page.click("#discover")
            expect(page.locator("#add-name option")).to_have_count(2)
            page.select_option("#add-name", "llama3:latest")
            page.click("#add")
            added = page.locator("table[data-type=general] tr[data-active=true]")
            expect(added).to_contain_text("llama3:latest")
            added_id = added.get_attribute("data-model-id")
            page.screenshot(path=str(shots / "2-added.png"), full_page=True)

            # Chat: the answer streams in.
            ollama_server.reply("Hello", " from", " Chromium")
            page.fill("#message", "hi from the page")
            page.click("#send")
            answer = page.locator("#messages li.assistant").last
            expect(answer).to_have_attribute("data-done", "true")
            expect(answer.locator(".text")).to_have_text("Hello from Chromium")
            expect(answer.locator(".who")).to_have_text("llama3:latest")
            expect(page.locator("#continue")).to_contain_text("ai-cli --session session_")
            page.screenshot(path=str(shots / "3-chat.png"), full_page=True)

            # Another process switches the active model: the page follows, no reload.
            proc = cli.run("model", "general", "use", other["model_id"])
            assert proc.returncode == 0, proc.stderr
            switched = page.locator(f"tr[data-model-id={other['model_id']}]")
            expect(switched).to_have_attribute("data-active", "true")
            expect(page.locator(f"tr[data-model-id={added_id}]")).to_have_attribute(
                "data-active", "false")
            assert page.evaluate("window.__sameDocument") is True
            page.screenshot(path=str(shots / "4-switched-from-cli.png"), full_page=True)
            assert outside == []  # the page loads nothing from elsewhere (no CDN)
        finally:
            context.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-start.png", "2-added.png", "3-chat.png", "4-switched-from-cli.png"]


def test_page_proposes_code_changes_and_writes_only_on_apply(web, cli, ollama_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    target = web.app.workspace / "main.py"
    target.write_text("print('old')\n")
    ollama_server.add_model("coder")
    cli.json("model", "coder", "add", ollama_server.url, "coder")
    ollama_server.reply_tool_call("edit_file", {"path": "main.py", "old_text": "print('old')",
                                                "new_text": "print('<b>new</b>')"})
    ollama_server.reply("Changed main.py.")
    with sync_playwright() as playwright:
        context = open_browser(playwright, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(WAIT_MS)
            page.goto(f"{web.url}/?token={web.token}")  # as serve prints it
            page.fill("#instruction", "print something new")
            page.click("#propose")
            diff = page.locator(".diff[data-path='main.py']")
            expect(diff).to_contain_text("+print('<b>new</b>')")
            assert page.locator("#proposal b").count() == 0  # the diff is text, not markup
            expect(page.locator("#code-answer")).to_have_text("Changed main.py.")
            assert target.read_text() == "print('old')\n"  # proposed, not written
            page.screenshot(path=str(tmp_path / "code-proposal.png"), full_page=True)
            page.click("#apply")
            expect(page.locator("#code-result")).to_have_text("Written: main.py changed (+1 -1)")
            assert target.read_text() == "print('<b>new</b>')\n"
            page.click("#undo")
            expect(page.locator("#code-result")).to_have_text("Restored: main.py")
            assert target.read_text() == "print('old')\n"
        finally:
            context.close()
