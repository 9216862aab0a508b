"""jobpulse: monitoring for background jobs, scheduled jobs, workers and queues."""

__version__ = "0.1.0"
