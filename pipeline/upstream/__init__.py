"""The upstream check: every witness of every source (its publisher's page, an archived
copy, the report's PDF) fetched and compared with the snapshot in raw/.

fetch.py     one HTTP request per witness: timeouts, redirects, a size cap, conditional
             requests from the state of the last check
extract.py   a witness's text: HTML, PDF or plain text, by the extraction rules of
             docs/annotating.md ("Witnesses upstream")
compare.py   that text against source.txt: the passages that differ, as word diffs, and the
             records whose quote, numeral or period lies in or next to each
check.py     every witness of the sources asked for: the report, the exit code, the state
render.py    the report as text, Markdown (the Dagster UI) and JSON
state.py     what one check leaves for the next (ETags, texts, the last report) in a
             gitignored folder that is always safe to delete

Nothing here writes into raw/, outputs/ or git; the build never imports it.
"""
