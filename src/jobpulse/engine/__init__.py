"""Background loops: the evaluator (and, as they land, collectors, notifier, pruner)."""
