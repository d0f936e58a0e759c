"""Strategies, one file per method; the file name is the registry name (dashes become underscores)."""
