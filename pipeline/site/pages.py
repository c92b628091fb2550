"""The provenance pages' public interface: what pipeline/publish/ imports from the site.

The pages are made in render.py from templates/ and static/; the checks they make are in
checks.py and segments.py, the labels of their cells in labels.py.
"""

from pipeline.site.checks import SOURCE_PAGES_DIR, source_page_path
from pipeline.site.labels import period_label, plain_columns, plain_rows
from pipeline.site.render import index_page, source_page, source_page_from_rows

__all__ = [
    "SOURCE_PAGES_DIR",
    "index_page",
    "period_label",
    "plain_columns",
    "plain_rows",
    "source_page",
    "source_page_from_rows",
    "source_page_path",
]
