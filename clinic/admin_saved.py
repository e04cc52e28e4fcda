"""Admin for saved test conversations (run them against the current content)."""
