"""Development-only tools: demo data generation and its bulk-load toolkit.

Installed so that `make run` and the tests can call `generate_demo` and `demo_accounts`;
production code never imports this package (a test walks the imports to hold it).
"""
