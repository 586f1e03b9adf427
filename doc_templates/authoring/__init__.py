"""Scripts that author the built-in templates; not imported at run time."""
