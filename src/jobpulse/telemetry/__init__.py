"""jobpulse's view of itself: structured logs, request context and Prometheus metrics."""
