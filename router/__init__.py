"""Choosing a ChatOllama per request type, with the fallback chain (DESIGN.md, "Fallback chain")."""
