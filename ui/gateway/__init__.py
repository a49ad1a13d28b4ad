"""The gateway: Ollama's API (`/api/*`) and OpenAI's (`/v1/*`) over the router (docs/GATEWAY.md)."""
