"""outputs/annotations.jsonld: W3C Web Annotations that rdflib reads as JSON-LD with no
network, one per provenance row, each quoting exactly the snapshot's characters at its span."""

from __future__ import annotations

import json

import pandas as pd
from rdflib import DCTERMS, RDF, Graph, Namespace

from conftest import RAW
from pipeline.core.sources import load_snapshot

OA = Namespace("http://www.w3.org/ns/oa#")


def _annotations(graph: Graph):
    """(annotation, source, quote selector, position selector, body) of every annotation."""
    for a in graph.subjects(RDF.type, OA.Annotation):
        target, body = graph.value(a, OA.hasTarget), graph.value(a, OA.hasBody)
        assert (target, RDF.type, OA.SpecificResource) in graph
        selectors = {graph.value(s, RDF.type): s for s in graph.objects(target, OA.hasSelector)}
        quote, position = selectors[OA.TextQuoteSelector], selectors[OA.TextPositionSelector]
        yield a, graph.value(target, OA.hasSource), quote, position, body


def test_every_annotation_quotes_the_snapshot_at_its_span(built):
    path = built / "annotations.jsonld"
    assert isinstance(json.loads(path.read_text(encoding="utf-8"))["@context"], dict)
    graph = Graph().parse(path, format="json-ld")
    rows = list(_annotations(graph))
    provenance = pd.read_parquet(built / "provenance.parquet")
    assert len(rows) == len(provenance)
    texts, ids = {}, set()
    for a, source, quote, position, body in rows:
        sid = str(source).rsplit("/", 2)[-2]  # .../raw/<source_id>/source.txt
        text = texts.setdefault(sid, load_snapshot(RAW / sid).text)
        start, end = (graph.value(position, OA[k]).toPython() for k in ("start", "end"))
        assert isinstance(start, int) and isinstance(end, int)
        exact, prefix, suffix = (
            str(graph.value(quote, OA[k])) for k in ("exact", "prefix", "suffix")
        )
        assert text[start:end] == exact, a
        assert text[:start].endswith(prefix) and text[end:].startswith(suffix), a
        ids.add(str(graph.value(body, DCTERMS.identifier)))
        assert graph.value(body, RDF.value) is not None
    assert ids == set(provenance["record_id"])


def test_bodies_carry_the_record_value(built):
    doc = json.loads((built / "annotations.jsonld").read_text(encoding="utf-8"))
    figures = pd.read_parquet(built / "figures.parquet").set_index("figure_id")
    for annotation in doc["@graph"]:
        body = annotation["body"]
        if body["identifier"] in figures.index:
            figure = figures.loc[body["identifier"]]
            number = float(body["value"].split(" ")[0])
            assert number == figure["value"] and body["value"].endswith(f" {figure['unit']}")


def test_the_build_refuses_an_annotation_that_does_not_select_its_row(built, tmp_path):
    import shutil

    from pipeline.core.fields import table_defs
    from pipeline.publish.metadata import ANNOTATIONS, annotation_problems

    folder = tmp_path / "staged"
    shutil.copytree(built, folder)
    tables = {
        "provenance": (table_defs()["provenance"], pd.read_parquet(built / "provenance.parquet"))
    }
    assert annotation_problems(folder, tables) == []
    path = folder / ANNOTATIONS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    note = json.loads(lines[5].rstrip().rstrip(","))  # an annotation, one a line
    note["target"]["selector"][1]["start"] += 1
    path.write_text("".join(lines[:5] + [json.dumps(note) + ",\n"] + lines[6:]), encoding="utf-8")
    assert "does not select its row" in annotation_problems(folder, tables)[0]
    last = len(lines) - 2  # the last annotation, before "]}"
    kept = lines[:last] + lines[last + 1 :]
    kept[last - 1] = kept[last - 1].rstrip().rstrip(",") + "\n"
    path.write_text("".join(kept), encoding="utf-8")
    assert "fewer annotations" in annotation_problems(folder, tables)[0]
    assert json.loads(path.read_text(encoding="utf-8"))  # still JSON: only the count is wrong
