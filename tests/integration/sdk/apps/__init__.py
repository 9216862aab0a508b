"""Small apps that the SDK tests run under real workers (imported by worker processes)."""
