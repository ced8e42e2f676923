"""Built-in optimizers, one per file."""
