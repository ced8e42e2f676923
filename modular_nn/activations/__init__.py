"""Built-in activations, one per file."""
