"""HTTP API and web page over the registry and router: arrives with its own issue; nothing here yet."""
