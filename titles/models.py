"""Titles: criteria sets, registrations, evaluation, review and recognition."""
