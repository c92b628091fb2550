"""Build machinery: the content-addressed store of each source's rows and the one function
that makes every key from the code version."""
