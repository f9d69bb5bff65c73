"""apply / export (being written)."""
