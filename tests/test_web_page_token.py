"""The page in a real headless Chromium (Debian's, as tests/test_web_browser.py drives it): the
token of the printed address leaves the address bar and the history, another page cannot frame
it, a broken answer is marked, and file names with invisible characters are shown escaped."""

from __future__ import annotations

import pytest

from ollama_fixtures import dead_url, ollama_server  # noqa: F401
from test_cli_support import cli  # noqa: F401
from test_web_browser import WAIT_MS, open_browser, page_opened_with_the_token
from web_support import NO_AUTH, start_web, web  # noqa: F401

pytestmark = pytest.mark.browser  # Chromium, through Playwright


def test_the_page_takes_the_token_out_of_the_address_bar(web, tmp_path):
    from playwright.sync_api import expect

    with page_opened_with_the_token(web, tmp_path) as (context, page):
        expect(page.locator("#live")).to_have_text("live")  # the API answers: authorized
        assert page.url == web.url + "/"
        assert web.token not in page.evaluate("window.location.href")
        page.go_back()  # no entry of the history holds the token
        assert page.url == "about:blank"
        page.go_forward()
        assert page.url == web.url + "/"
        assert web.token not in page.evaluate("document.cookie")  # HttpOnly
        cookies = context.cookies(web.url)
        assert [(c["httpOnly"], c["sameSite"]) for c in cookies] == [(True, "Strict")]

        page.goto(web.url + "/")  # back later: the cookie opens it
        expect(page.locator("#live")).to_have_text("live")

        context.clear_cookies()  # another account's browser: no cookie, no token
        answer = page.goto(web.url + "/")
        assert answer.status == 401
        expect(page.locator("input[name=token]")).to_be_visible()
        page.fill("input[name=token]", web.token)
        page.click("button[type=submit]")
        expect(page.locator("#live")).to_have_text("live")
        assert page.url == web.url + "/"


class FramingPage:
    """Another web page (its own origin on 127.0.0.1) whose one content is an iframe of `src`."""

    def __init__(self, src: str):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        body = f'<!doctype html><iframe id="f" src="{src}"></iframe>'.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_another_page_cannot_frame_it(cli, tmp_path):
    """A page of another origin puts ours in an iframe: the browser refuses to show it (the
    header, not a <meta>, is what browsers obey). With --no-auth, so that nothing but the
    framing rule could keep the page out of the frame."""
    from playwright.sync_api import sync_playwright

    server = start_web(cli, token=NO_AUTH)
    framed_url = server.url.replace("127.0.0.1", "localhost") + "/"
    framing = FramingPage(framed_url)
    try:
        with sync_playwright() as playwright:
            context = open_browser(playwright, tmp_path / "profile")
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(WAIT_MS)
                page.goto(framed_url)
                assert page.locator("#live").count() == 1  # the page itself opens
                with page.expect_response(framed_url) as framed_answer:
                    page.goto(framing.url)
                assert framed_answer.value.status == 200  # served, then refused by the browser
                page.wait_for_timeout(1000)
                assert page.frame_locator("#f").locator("#live").count() == 0
            finally:
                context.close()
    finally:
        framing.stop()
        server.stop()


def test_a_broken_answer_is_marked_on_the_page_and_when_its_session_opens(web, cli, ollama_server,
                                                                          tmp_path):
    from playwright.sync_api import expect

    ollama_server.add_model("llama3")
    cli.json("model", "general", "add", ollama_server.url, "llama3")
    ollama_server.reply("part one", " part two", " never")
    ollama_server.chat_mode = "die_mid_stream"
    ollama_server.die_after = 2
    with page_opened_with_the_token(web, tmp_path) as (context, page):
        expect(page.locator("#live")).to_have_text("live")
        page.fill("#message", "tell me")
        page.click("#send")
        answer = page.locator("#messages li.assistant").last
        expect(answer).to_have_class("assistant error broken")
        expect(answer.locator(".who")).to_contain_text("(broken off)")
        session = page.locator("#continue").text_content().rsplit(" ", 1)[-1]
        assert session.startswith("session_")
        page.reload()
        expect(page.locator("#live")).to_have_text("live")
        page.select_option("#sessions", session)
        stored = page.locator("#messages li.assistant").last
        expect(stored).to_have_class("assistant broken")
        expect(stored.locator(".who")).to_have_text("llama3 (broken off)")


def test_file_names_with_invisible_characters_are_shown_escaped(web, cli, ollama_server, tmp_path):
    from playwright.sync_api import expect

    ollama_server.add_model("coder")
    cli.json("model", "coder", "add", ollama_server.url, "coder")
    sneaky = "ma\u200bin.py"
    ollama_server.reply_tool_call("write_file", {"path": sneaky, "content": "print(1)\n"})
    ollama_server.reply("Wrote it.")
    with page_opened_with_the_token(web, tmp_path) as (context, page):
        page.fill("#instruction", "add a main")
        page.click("#propose")
        diff = page.locator(".diff").first
        expect(diff.locator("h4")).to_have_text("ma<U+200B>in.py created (+1 -0)")
        expect(diff.locator("pre")).to_contain_text("+++ b/ma<U+200B>in.py")
        assert "\u200b" not in diff.locator("h4").text_content()
