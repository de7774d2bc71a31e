"""Writes to the registry. Each module is one area: entities, imports, divisions, demo, grants."""
