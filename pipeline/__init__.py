"""US/Mexico drug-cooperation open dataset: from annotated source text to a validated data package."""
