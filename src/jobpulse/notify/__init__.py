"""Notification channels, one module each, behind one interface (see base.py)."""
