"""Writes to the registry, one module per area: entities, imports, divisions, grants, tallies."""
