"""Pure domain logic: no I/O, no clock of its own (time is always a parameter)."""
