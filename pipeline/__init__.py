"""US/Mexico drug-cooperation open dataset: annotated source text to a validated data package."""
