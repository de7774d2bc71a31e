"""Titles pages: `staff` (registering, evidence, self-assessment, import), `review` (officials)."""
