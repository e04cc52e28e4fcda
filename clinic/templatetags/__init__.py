"""Template tags for the clinic's admin pages."""
