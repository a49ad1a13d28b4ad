"""The web face: the HTTP API and the page over the same registry, router and engine
(`ai-cli serve`; docs/WEB.md)."""
