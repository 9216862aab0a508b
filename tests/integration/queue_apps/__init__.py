"""Tiny apps of each queue library, imported by the real worker processes the collector tests
start. Their broker URL and queue names come from the environment the test sets."""
