"""The provenance pages: Jinja2 templates and static CSS/JS, rendered from the tables."""
