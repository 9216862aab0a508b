"""Monitors as code: `jobpulse export` and `jobpulse import` over one YAML document."""
