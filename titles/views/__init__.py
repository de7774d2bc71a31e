"""Titles pages: `staff` (registering, evidence, self-assessment, import) and `review` (officials)."""
