"""Metadata that other tools read, and the package as one archive, made from table_defs().

croissant.json (MLCommons Croissant 1.1: one record set per table, read from its Parquet
file), annotations.jsonld (every provenance row as a W3C Web Annotation on the source
snapshot), README.md (from templates/readme.md.j2) and <name>-<version>.zip (every file
staged so far, in path order, with fixed timestamps). Both JSON-LD contexts are written out
inline, so no reader fetches one. Nothing here reads the clock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from pipeline import progress
from pipeline.core.fields import TableDef
from pipeline.core.sources import sha256_file
from pipeline.publish.changelog import CHANGELOG_JSON, CHANGELOG_MD
from pipeline.publish.files import NULL
from pipeline.publish.sqlite import enforceable_keys, sqlite_problems
from pipeline.site.labels import as_rows

Tables = dict[str, tuple[TableDef, pd.DataFrame]]
CROISSANT, ANNOTATIONS, README = "croissant.json", "annotations.jsonld", "README.md"
PROVENANCE = "provenance"
CR_TYPES = {"string": "sc:Text", "integer": "sc:Integer", "number": "sc:Float",
            "boolean": "sc:Boolean", "date": "sc:Date"}  # fmt: skip
CR_TERMS = ("arrayShape citeAs column containedIn equivalentProperty extract field fileProperty "
            "fileObject fileSet format includes isArray isLiveDataset jsonPath key md5 parentField "
            "path recordSet references regex repeated replace samplingRate separator source "
            "subField transform").split()  # fmt: skip
CR_CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/", "dct": "http://purl.org/dc/terms/",
    "rai": "http://mlcommons.org/croissant/RAI/", **{k: f"cr:{k}" for k in CR_TERMS},
    "conformsTo": "dct:conformsTo", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "examples": {"@id": "cr:examples", "@type": "@json"},
}  # fmt: skip
FILE_NOTES = {  # what the files that are not tables are (tables say it in datapackage.json)
    "datapackage.json": "The Frictionless data package: every table's schema, keys, bytes, sha256",
    CROISSANT: "MLCommons Croissant 1.1 metadata of the tables",
    ANNOTATIONS: "Every provenance row as a W3C Web Annotation on its source snapshot",
    CHANGELOG_MD: "What changed in each version", CHANGELOG_JSON: "The changelog as data",
    ".metadata.json": "Datasette metadata of the SQLite database: titles, column descriptions",
}  # fmt: skip
NNI = "http://www.w3.org/2001/XMLSchema#nonNegativeInteger"
ANNO_CONTEXT = {  # the terms of http://www.w3.org/ns/anno.jsonld that are used, as defined there
    "oa": "http://www.w3.org/ns/oa#", "id": "@id", "type": "@type",
    **{t: f"oa:{t}" for t in ("Annotation", "SpecificResource", "TextualBody",
                              "TextQuoteSelector", "TextPositionSelector", "exact", "prefix",
                              "suffix")},
    **{t: {"@id": f"oa:has{t.title()}", "@type": "@id"}
       for t in ("body", "target", "source", "selector", "scope")},
    "start": {"@id": "oa:start", "@type": NNI}, "end": {"@id": "oa:end", "@type": NNI},
    "value": "http://www.w3.org/1999/02/22-rdf-syntax-ns#value",
    "format": "http://purl.org/dc/elements/1.1/format",
    "identifier": "http://purl.org/dc/terms/identifier",
}  # fmt: skip


def citation(descriptor: dict[str, Any]) -> str:
    """How to cite this version: its makers, year, title and version, and its sources."""
    makers = [c["title"].split(" (")[0] for c in descriptor["contributors"]
              if c["role"] != "author"]  # fmt: skip
    year = f" ({descriptor['created'][:4]})" if descriptor.get("created") else ""
    sources = "; ".join(s["title"] for s in descriptor["sources"])
    return (f"{', '.join(makers)}{year}. {descriptor['title']} (version "
            f"{descriptor['version']}). Derived from {sources}.")  # fmt: skip


def _record_set(tables: Tables, name: str, file_id: str) -> dict[str, Any]:
    """A table's record set; its references are the foreign keys to a whole primary key
    (mlcroissant joins on a reference, which would repeat rows for any other)."""
    table, refs = tables[name][0], {c: f"{t}/{k}" for c, t, k in enforceable_keys(name, tables)}

    def ref(column: str) -> dict[str, str]:
        return {"@id": f"{table.name}/{column}"}

    fields = []
    for f in table.fields:
        source = {"fileObject": {"@id": file_id}, "extract": {"column": f.name}}
        field = {"@type": "cr:Field", **ref(f.name), "name": f.name,
                 "description": f.description, "dataType": CR_TYPES[f.type],
                 "source": source}  # fmt: skip
        if f.name in refs:
            field["references"] = {"field": {"@id": refs[f.name]}}
        fields.append(field)
    key = [ref(c) for c in table.primary_key]
    return {"@type": "cr:RecordSet", "@id": table.name, "name": table.name,
            "description": table.description, "key": key[0] if len(key) == 1 else key,
            "field": fields}  # fmt: skip


def croissant(tables: Tables, descriptor: dict[str, Any]) -> dict[str, Any]:
    """Croissant 1.1 metadata: one FileObject per Parquet resource, one record set per table."""
    parquet = {r["name"]: r for r in descriptor["resources"] if r["format"] == "parquet"}
    return {
        "@context": CR_CONTEXT, "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "name": descriptor["name"], "description": descriptor["description"],
        "license": descriptor["licenses"][0]["path"], "url": "index.html",
        "version": descriptor["version"], "citeAs": citation(descriptor),
        **({"datePublished": descriptor["created"][:10]} if descriptor.get("created") else {}),
        "keywords": descriptor["keywords"],
        "creator": [{"@type": "sc:Organization", "name": c["title"]}
                    for c in descriptor["contributors"]],
        "distribution": [
            {"@type": "cr:FileObject", "@id": f"{name}-parquet", "name": r["path"],
             "contentUrl": r["path"], "encodingFormat": "application/x-parquet",
             "sha256": r["hash"].removeprefix("sha256:")}
            for name, r in parquet.items()
        ],
        "recordSet": [_record_set(tables, name, f"{name}-parquet") for name in parquet],
    }  # fmt: skip


def _shown(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _bodies(tables: Tables) -> dict[str, str]:
    """record id -> the body's value: the record's value and unit, else its name."""
    found = {}
    for table, df in tables.values():
        fks = [k for k in table.foreign_keys if k["reference"]["resource"] == PROVENANCE]
        if not fks:
            continue
        key = fks[0]["fields"][0]
        shown = ["value", "unit"] if "value" in table.columns else ["name"]
        for row in as_rows(df[[key, *[c for c in shown if c in table.columns]]]):
            found[row[key]] = " ".join(_shown(row[c]) for c in shown if row.get(c) is not None)
    return found


ANNOTATED_COLUMNS = ("record_id", "mention", "source_id", "quote", "prefix", "suffix",
                     "char_start", "char_end")  # fmt: skip


def annotations(tables: Tables) -> Iterator[dict[str, Any]]:
    """Every provenance row as a Web Annotation: target = its source snapshot, selected by
    quote and code-point span; body = its record's id and value."""
    bodies = _bodies(tables)
    urls = as_rows(tables["sources"][1][["source_id", "url"]])
    sources = {r["source_id"]: r["url"] for r in urls}
    provenance = tables[PROVENANCE][1]
    # only the columns an annotation shows: 8 of provenance's 17 (each cell made plain costs)
    for row in as_rows(provenance[[c for c in ANNOTATED_COLUMNS if c in provenance.columns]]):
        rid, sid = row["record_id"], row["source_id"]
        yield {
            "id": f"#{rid}.{row.get('mention', 1)}", "type": "Annotation",
            "body": {"id": f"provenance.html#{rid}", "type": "TextualBody", "identifier": rid,
                     "value": bodies.get(rid, rid), "format": "text/plain"},
            "target": {"type": "SpecificResource", "source": f"../raw/{sid}/source.txt",
                       "scope": sources[sid], "selector": [
                {"type": "TextQuoteSelector", "exact": row["quote"],
                 "prefix": row["prefix"] or "", "suffix": row["suffix"] or ""},
                {"type": "TextPositionSelector", "start": row["char_start"],
                 "end": row["char_end"]}]},
        }  # fmt: skip


def write_annotations(tables: Tables, path: Path) -> None:
    """annotations.jsonld written as it is made, one annotation a line (a thousand sources'
    graph would not fit in memory twice)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('{"@context": ' + json.dumps(ANNO_CONTEXT, ensure_ascii=False) + ',\n"@graph": [')
        for i, note in enumerate(annotations(tables)):
            out.write((",\n" if i else "\n") + json.dumps(note, ensure_ascii=False))
        out.write("\n]}\n")


def _files(
    folder: Path, skip: tuple[str, ...] = (), listed: frozenset[str] | None = None
) -> list[tuple[str, Path]]:
    """(path, file) of every file of `folder`, or of `listed` when given (the folder is not
    walked then: other files may be being written there), but those named in `skip`."""
    if listed is not None:
        found = ((name, folder / name) for name in listed)
        return sorted((n, p) for n, p in found if p.is_file() and p.name not in skip)
    return sorted((p.relative_to(folder).as_posix(), p) for p in folder.rglob("*")
                  if p.is_file() and p.name not in skip)  # fmt: skip


def listed_files(folder: Path) -> frozenset[str]:
    """What README.md and the archive list: the files of `folder` now, and the three that
    `write_metadata` makes. Taken before the pages are written beside them."""
    return frozenset([*(name for name, _ in _files(folder)), CROISSANT, ANNOTATIONS, README])


def describe(path: str) -> str:
    return FILE_NOTES.get(path) or next((v for k, v in FILE_NOTES.items() if path.endswith(k)), "")


def readme(
    tables: Tables, descriptor: dict[str, Any], folder: Path, listed: frozenset[str] | None = None
) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parents[1] / "site" / "templates"),
        autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )  # fmt: skip
    described = {r["path"]: r["title"] for r in descriptor["resources"]}
    files = [{"path": path, "bytes": p.stat().st_size, "sha256": sha256_file(p),
              "title": described.get(path)}
             for path, p in _files(folder, (README,), listed)]  # fmt: skip
    return env.get_template("readme.md.j2").render(
        package=descriptor, tables=[t for t, _ in tables.values()], files=files,
        citation=citation(descriptor), describe=describe, null=NULL, sqlite=next(
            (r["path"] for r in descriptor["resources"] if r["format"] == "sqlite"), None),
    )  # fmt: skip


def archive_name(descriptor: dict[str, Any]) -> str:
    return f"{descriptor['name']}-{descriptor['version']}.zip"


ARCHIVE_LEVEL = 1  # zlib's compression level of the archive's members


def write_archive(
    folder: Path, descriptor: dict[str, Any], listed: frozenset[str] | None = None
) -> Path:
    """Every file of `folder` (of `listed`, when given) under <name>-<version>/, in path
    order, with fixed times and modes: the same files, the same bytes."""
    path, top = folder / archive_name(descriptor), archive_name(descriptor)[: -len(".zip")]
    with zipfile.ZipFile(path, "w") as zf:
        for name, file in _files(folder, (path.name,), listed):
            info = zipfile.ZipInfo(f"{top}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr, info.compress_type = 0o644 << 16, zipfile.ZIP_DEFLATED
            # zlib's level 1: 0.4 of level 6's time for 24 % more bytes (92.6 against 74.8 MiB
            # at N = 1,000; 6 had half the time of 9 for 1-2 %; docs/performance.md)
            zf.writestr(info, file.read_bytes(), compresslevel=ARCHIVE_LEVEL)
    return path


def write_metadata(
    tables: Tables, folder: Path, descriptor: dict[str, Any], listed: frozenset[str] | None = None
) -> None:
    """croissant.json, annotations.jsonld and README.md, then the archive of the folder (of
    `listed`, when other files are being written beside them: `listed_files`); each a step
    of its own (progress), so the build's log times each format."""
    with progress.step("Croissant"):
        text = json.dumps(croissant(tables, descriptor), indent=1, ensure_ascii=False) + "\n"
        (folder / CROISSANT).write_text(text, encoding="utf-8")
    with progress.step("Web Annotations"):
        write_annotations(tables, folder / ANNOTATIONS)
    with progress.step("README"):
        (folder / README).write_text(readme(tables, descriptor, folder, listed), encoding="utf-8")
    with progress.step("archive"):
        write_archive(folder, descriptor, listed)


def absl_on_a_standard_stream() -> None:
    """absl's log handler (mlcroissant's logger) keeps the stderr of the moment absl was
    imported and closes it when a `logging.config` call closes every handler, unless it is a
    standard stream; each Dagster run makes such a call. Imported while a host had swapped
    stderr (a notebook's stream, a test's capture), absl would have the run close the host's
    stream: give its handler the process's own stderr. Nothing to do if absl is not loaded."""
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is not None:
        absl_logging.get_absl_handler().python_handler.stream = sys.__stderr__


def croissant_problems(folder: Path) -> list[str]:
    """mlcroissant's validation of croissant.json, reading one record of each record set
    (which checks each file's sha256)."""
    import mlcroissant as mlc

    absl_on_a_standard_stream()
    root = logging.getLogger()
    quiet = logging.NullHandler()  # absl's warnings would call basicConfig() on a bare root
    root.addHandler(quiet)
    try:
        dataset = mlc.Dataset(jsonld=folder / CROISSANT)
        for record_set in dataset.metadata.record_sets:
            next(iter(dataset.records(record_set=record_set.uuid)), None)
    except (mlc.ValidationError, mlc.GenerationError) as exc:
        return [f"{CROISSANT}: {str(exc).splitlines()[0]}"]
    finally:
        root.removeHandler(quiet)
    return []


def annotation_problems(folder: Path, tables: Tables) -> list[str]:
    """annotations.jsonld reads back, line by line, as one annotation per provenance row,
    each selecting the row's quote and span (rdflib parses the whole file as JSON-LD in the
    tests: at a thousand sources its graph takes gigabytes, more than the whole build)."""
    provenance = tables[PROVENANCE][1]
    columns = (provenance[c].astype(object).tolist() for c in ("quote", "char_start", "char_end"))
    rows = zip(*columns, strict=True)  # tuples, not a dict a row: a third of the memory
    with (folder / ANNOTATIONS).open(encoding="utf-8") as lines:
        head = next(lines, "") + next(lines, "")
        for line in lines:
            if line.startswith("]"):
                break
            try:
                note, row = json.loads(line.rstrip().rstrip(",")), next(rows, None)
            except ValueError as exc:
                return [f"{ANNOTATIONS} does not read back as JSON ({exc})"]
            quote, position = note["target"]["selector"]
            if row is None or (quote["exact"], position["start"], position["end"]) != row:
                return [f"{ANNOTATIONS}: annotation {note['id']} does not select its row"]
    if '"@graph"' not in head or next(rows, None) is not None:
        return [f"{ANNOTATIONS} has fewer annotations than provenance rows"]
    return []


def archive_problems(folder: Path, descriptor: dict[str, Any]) -> list[str]:
    """The archive is a sound zip whose every file is the staged file of that name, byte for
    byte, and it holds the descriptor, every resource and the metadata files."""
    path = folder / archive_name(descriptor)
    if not path.exists():
        return [f"{path.name} is missing"]
    held = {}
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():  # each read once, streamed: zipfile checks its CRC at
            try:  # the end of the member, so a damaged one raises before its digest is kept
                with zf.open(member) as stream:
                    digest = hashlib.file_digest(stream, "sha256").hexdigest()
                held[member.split("/", 1)[1]] = digest
            except (zipfile.BadZipFile, zlib.error) as exc:
                return [f"{path.name}: {member} is damaged ({exc})"]
    wanted = {"datapackage.json", CROISSANT, ANNOTATIONS, README}
    wanted |= {r["path"] for r in descriptor["resources"]}
    return [f"{path.name} lacks {n}" for n in sorted(wanted - set(held))] + [
        f"{path.name} holds a {n} that is not the staged one"
        for n, digest in sorted(held.items())
        if not (folder / n).is_file() or sha256_file(folder / n) != digest
    ]


def metadata_problems(folder: Path, tables: Tables) -> list[str]:
    """Every check of the files made here and in sqlite.py, by the tools that read them."""
    descriptor = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    checks = (
        ("SQLite", lambda: sqlite_problems(folder, tables, descriptor["name"])),
        ("Croissant", lambda: croissant_problems(folder)),
        ("Web Annotations", lambda: annotation_problems(folder, tables)),
        ("archive", lambda: archive_problems(folder, descriptor)),
    )
    return progress.checked(checks)  # each a step of its own, timed in the build's log
