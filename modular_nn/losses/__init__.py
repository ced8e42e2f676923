"""Built-in losses, one per file."""
