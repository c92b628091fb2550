"""Build machinery: the content-addressed store, its keys, and the worker processes."""
