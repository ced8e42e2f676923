"""The sequential Model and what training needs around it."""
