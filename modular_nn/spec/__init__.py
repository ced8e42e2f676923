"""Model specs: JSON in, validated pydantic ``ModelSpec`` out."""
