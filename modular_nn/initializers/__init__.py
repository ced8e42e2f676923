"""Built-in weight initializers, one per file."""
