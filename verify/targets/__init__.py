"""Paper reproductions, one module per source paper; each registers its targets on import."""
