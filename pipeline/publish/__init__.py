"""Publishing: files, descriptor, validation, changelog, build record, the atomic swap."""
