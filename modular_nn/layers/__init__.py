"""Built-in layers, one per file."""
