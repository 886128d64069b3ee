"""Reading crawls: real Common Crawl WARC/WET, and every way a record can be bad (counted, skipped)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from seekmath.corpus.read import (
    SkipStats,
    decode_body,
    iter_documents,
    list_input_files,
    url_domain,
)

WHIRL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "web" / "whirlwind-python"


def page(i: int, extra: str = "") -> bytes:
    return f"<html><body><article><h1>Page {i}</h1><p>Paragraph number {i} says hello to the reader. {extra}</p></article></body></html>".encode()


def write_warc(path: Path, records: list[tuple], gz: bool = True) -> list[tuple[int, int]]:
    """records: (url, body bytes, content type, status); returns each response's (start, end) offsets."""
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=gz)
    spans = []
    for url, body, ctype, status in records:
        hh = StatusAndHeaders(status, [("Content-Type", ctype)] if ctype else [], protocol="HTTP/1.1")
        rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body), http_headers=hh)
        start = buf.tell()
        w.write_record(rec)
        spans.append((start, buf.tell()))
    path.write_bytes(buf.getvalue())
    return spans


def good(n: int) -> list[tuple]:
    return [(f"https://www.Example{i}.com:8080/p/{i}", page(i), "text/html; charset=utf-8", "200 OK") for i in range(n)]


# ---------------------------------------------------------------------------------------- real data


def test_real_common_crawl_warc_plain_and_gzip_read_and_extracted():
    if not WHIRL.is_dir():
        pytest.skip("shared whirlwind data missing")
    docs = {}
    for name in ("whirlwind.warc", "whirlwind.warc.gz"):
        stats = SkipStats()
        got = list(iter_documents(WHIRL / name, stats))
        assert len(got) == 1, (name, stats)
        docs[name] = d = got[0]
        assert d["url"] == "https://an.wikipedia.org/wiki/Escopete"
        assert d["domain"] == "an.wikipedia.org"
        assert d["source"].startswith(f"{name}:")
        assert stats["documents"] == 1 and stats.skipped == 0
        assert "Escopete" in d["text"][:40]
        assert "Menú principal" not in d["text"] and "Portalada" not in d["text"]  # the site's menus are gone
    # same record -> same stable id (the WARC-Record-ID) whatever the compression
    assert docs["whirlwind.warc"]["id"] == docs["whirlwind.warc.gz"]["id"] == "2aabeff2-67f5-4608-8466-e87c6296e2b6"
    assert docs["whirlwind.warc"]["source"] == "whirlwind.warc:1375"
    assert docs["whirlwind.warc.gz"]["source"] == "whirlwind.warc.gz:1023"  # offset of the gzip member
    assert docs["whirlwind.warc"]["text"] == docs["whirlwind.warc.gz"]["text"]


def test_real_wet_conversion_record_passes_text_through():
    if not WHIRL.is_dir():
        pytest.skip("shared whirlwind data missing")
    stats = SkipStats()
    (wet,) = list(iter_documents(WHIRL / "whirlwind.warc.wet.gz", stats))
    (warc,) = list(iter_documents(WHIRL / "whirlwind.warc.gz", SkipStats()))
    assert wet["url"] == warc["url"]
    assert wet["text"].startswith("Escopete - Biquipedia")
    # our extraction drops the menus that Common Crawl's WET text keeps
    assert "Menú principal" in wet["text"] and "Menú principal" not in warc["text"]
    # and keeps the article's own words, which both share
    for sentence in ("Escopete ye un municipio d'a provincia de Guadalachara, en a comunidat autonoma de Castiella-La Mancha",
                     "Escopete ye citato en as Relaciones Topográficas"):
        assert sentence in warc["text"] and sentence in wet["text"]


def test_wat_metadata_only_yields_nothing():
    if not WHIRL.is_dir():
        pytest.skip("shared whirlwind data missing")
    stats = SkipStats()
    assert list(iter_documents(WHIRL / "whirlwind.warc.wat.gz", stats)) == []
    assert stats.skipped == 0


# ---------------------------------------------------------------------------------------- damaged input


def test_corrupt_gzip_member_is_counted_and_reading_resumes(tmp_path):
    p = tmp_path / "c.warc.gz"
    spans = write_warc(p, good(5))
    data = bytearray(p.read_bytes())
    s, e = spans[2]
    for k in range(s + 40, s + 80):
        data[k] ^= 0x55
    p.write_bytes(bytes(data))
    stats = SkipStats()
    docs = list(iter_documents(p, stats))
    assert [d["url"].rsplit("/", 1)[-1] for d in docs] == ["0", "1", "3", "4"]
    assert stats["corrupt_record"] == 1
    assert stats["documents"] == 4


def test_truncated_file_and_garbage_between_members(tmp_path):
    p = tmp_path / "t.warc.gz"
    spans = write_warc(p, good(4))
    data = p.read_bytes()
    s3, e3 = spans[3]
    garbage = b"\x00\x00 this is not gzip at all \x00" * 4
    p.write_bytes(data[:spans[1][0]] + garbage + data[spans[1][0]:s3 + (e3 - s3) // 2])  # cut inside the last member
    stats = SkipStats()
    docs = list(iter_documents(p, stats))
    assert [d["url"].rsplit("/", 1)[-1] for d in docs] == ["0", "1", "2"]
    assert stats["corrupt_record"] == 2  # the garbage and the truncated member


def test_plain_warc_with_a_broken_record_resynchronises(tmp_path):
    p = tmp_path / "plain.warc"
    spans = write_warc(p, good(4), gz=False)
    data = p.read_bytes()
    s, e = spans[1]
    broken = data[:s] + b"WARC/1.0\r\nContent-Length: notanumber\r\nWARC-Type: response\r\n\r\nxx\r\n\r\n" + data[e:]
    p.write_bytes(broken)
    stats = SkipStats()
    docs = list(iter_documents(p, stats))
    names = [d["url"].rsplit("/", 1)[-1] for d in docs]
    assert names[0] == "0" and names[-1] == "3" and "1" not in names
    assert stats["corrupt_record"] >= 1


def test_charsets_oversized_non_html_and_status(tmp_path):
    latin = "<html><body><p>Crème brûlée à la française, voilà.</p></body></html>".encode("cp1252")
    meta = '<html><head><meta charset="windows-1252"></head><body><p>Déjà vu.</p></body></html>'.encode("cp1252")
    recs = [
        ("https://a.com/undeclared", latin, "text/html", "200 OK"),  # not UTF-8 and nothing declared
        ("https://a.com/declared", latin, "text/html; charset=ISO-8859-1", "200 OK"),
        ("https://a.com/meta", meta, "text/html", "200 OK"),
        ("https://a.com/big", page(1, "x " * 6000), "text/html", "200 OK"),
        ("https://a.com/doc.pdf", b"%PDF-1.4 ...", "application/pdf", "200 OK"),
        ("https://a.com/moved", b"", "text/html", "301 Moved Permanently"),
        ("https://a.com/empty", b"<html><body><script>var x=1;</script></body></html>", "text/html", "200 OK"),
        ("https://a.com/untyped", page(7), "", "200 OK"),  # no Content-Type: sniffed as HTML
        ("https://a.com/ok", page(2), "text/html; charset=utf-8", "200 OK"),
    ]
    p = tmp_path / "mixed.warc.gz"
    write_warc(p, recs)
    stats = SkipStats()
    docs = {d["url"].rsplit("/", 1)[-1]: d for d in iter_documents(p, stats, max_bytes=8000)}
    assert set(docs) == {"declared", "meta", "untyped", "ok"}
    assert "Crème brûlée" in docs["declared"]["text"]
    assert "Déjà vu" in docs["meta"]["text"]
    d = stats.as_dict()
    assert (d["non_utf8"], d["oversized"], d["non_html"], d["http_status"], d["empty_text"]) == (1, 1, 1, 1, 1)
    assert d["records"] == 9 and d["documents"] == 4


def test_decode_body_rules():
    assert decode_body("naïve".encode(), None) == "naïve"
    assert decode_body("naïve".encode("latin-1"), None) is None
    assert decode_body("naïve".encode("latin-1"), "latin-1") == "naïve"
    assert decode_body("naïve".encode(), "no-such-charset") == "naïve"  # unknown name -> UTF-8
    assert decode_body(b"\x93quoted\x94", "iso-8859-1") == "\u201cquoted\u201d"  # WHATWG: latin-1 means cp1252


# ---------------------------------------------------------------------------------------- tabular inputs


def test_jsonl_gz_with_bad_lines_and_truncation(tmp_path):
    rows = [{"id": "a", "url": "https://www.x.org/1", "text": "first text"},
            {"url": "https://x.org/2", "html": "<html><body><p>Second <script type='math/tex'>x^2</script> page.</p></body></html>"},
            {"url": "https://x.org/3"}]  # neither text nor html
    body = "\n".join(json.dumps(r) for r in rows[:2]) + "\n{not json\n" + json.dumps(rows[2]) + "\n"
    p = tmp_path / "d.jsonl.gz"
    p.write_bytes(gzip.compress(body.encode()))
    stats = SkipStats()
    docs = list(iter_documents(p, stats))
    assert [d["id"] for d in docs][0] == "a"
    assert docs[1]["text"] == "Second $x^2$ page."
    assert docs[0]["domain"] == docs[1]["domain"] == "x.org"
    assert docs[1]["source"].startswith("d.jsonl.gz:") and len(docs[1]["id"]) == 20
    assert stats["corrupt_record"] == 2
    # a truncated gzip keeps what was readable and counts the damage
    t = tmp_path / "t.jsonl.gz"
    full = gzip.compress(("\n".join(json.dumps({"text": f"row {i} " * 50}) for i in range(200)) + "\n").encode())
    t.write_bytes(full[: len(full) // 2])
    stats = SkipStats()
    n = sum(1 for _ in iter_documents(t, stats))
    assert 0 < n < 200 and stats["corrupt_record"] == 1


def test_parquet_and_folder_listing(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["p1", "p2"], "url": ["https://a.io/x", "https://b.io/y"], "text": ["alpha", "beta"]}),
                   tmp_path / "t.parquet")
    (tmp_path / "labels.jsonl").write_text('{"url": "x", "is_math": true}\n')
    (tmp_path / "notes.txt").write_text("ignored")
    assert [Path(f).name for f in list_input_files(tmp_path)] == ["t.parquet"]
    stats = SkipStats()
    docs = list(iter_documents(tmp_path, stats))
    assert [(d["id"], d["text"], d["domain"], d["source"]) for d in docs] == [
        ("p1", "alpha", "a.io", "t.parquet:0"), ("p2", "beta", "b.io", "t.parquet:1")]
    with pytest.raises(FileNotFoundError):
        list_input_files(tmp_path / "missing")


def test_hf_datasets_streaming_from_a_local_folder(tmp_path):
    d = tmp_path / "ds"
    d.mkdir()
    (d / "train.jsonl").write_text("\n".join(json.dumps({"text": f"doc {i}", "url": f"https://h.net/{i}"}) for i in range(3)) + "\n")
    stats = SkipStats()
    docs = list(iter_documents(f"hf:{d}@train", stats))
    assert [x["text"] for x in docs] == ["doc 0", "doc 1", "doc 2"]
    assert docs[0]["source"] == "ds:0"


# ---------------------------------------------------------------------------------------- small pieces


def test_url_domain():
    assert url_domain("https://WWW.MathOverflow.net/questions/1") == "mathoverflow.net"
    assert url_domain("http://user:pw@www.a.b.co.uk:8080/x?y") == "a.b.co.uk"
    assert url_domain("https://forum.algebracafe.com/t/x") == "forum.algebracafe.com"
    assert url_domain("not a url") == ""
    assert url_domain("http://[::1") == ""


def test_skipstats_merge_and_dict():
    a, b = SkipStats(), SkipStats()
    a.skip("non_utf8")
    a.add("records", 3)
    b.skip("non_utf8", 2)
    b.skip("custom_reason")
    a.merge(b).merge({"oversized": 4})
    d = a.as_dict()
    assert d["non_utf8"] == 3 and d["oversized"] == 4 and d["custom_reason"] == 1 and d["corrupt_record"] == 0
    assert a.skipped == 8 and d["records"] == 3
    assert list(d) == sorted(d)


def test_whole_file_gzip_single_member(tmp_path):
    plain = tmp_path / "all.warc"
    write_warc(plain, good(3) + [("https://b.com/big", page(9, "word " * 300_000), "text/html", "200 OK")], gz=False)
    p = tmp_path / "all.warc.gz"
    p.write_bytes(gzip.compress(plain.read_bytes()))  # one gzip member for the whole file (> 1 MiB inflated)
    stats = SkipStats()
    docs = list(iter_documents(p, stats, max_bytes=100_000))
    assert [d["url"].rsplit("/", 1)[-1] for d in docs] == ["0", "1", "2"]
    assert stats["oversized"] == 1 and stats["corrupt_record"] == 0
    assert docs[0]["source"] == "all.warc.gz:0" and docs[1]["source"].startswith("all.warc.gz:0+")
    # small whole-file gzip (kept in memory): same documents
    q = tmp_path / "small.warc.gz"
    write_warc(plain, good(3), gz=False)
    q.write_bytes(gzip.compress(plain.read_bytes()))
    assert [d["text"] for d in iter_documents(q, SkipStats())] == [d["text"] for d in docs]


def test_a_few_bad_bytes_are_replaced_and_counted_not_dropped():
    page = ("<html><body><p>" + "Rio Paran\u00e1 flows south. " * 40 + "</p></body></html>")
    body = page.replace("Paran\u00e1 flows south. Rio", "Paran\u00e1 flows south. Rio", 1).encode("utf-8")
    body = body.replace("\u00e1".encode("utf-8"), "\u00e1".encode("latin-1"), 1)  # one Latin-1 byte in a UTF-8 page
    stats = SkipStats()
    text = decode_body(body, None, stats)
    assert text is not None and text.count("\ufffd") == 1 and text.count("Paran\u00e1") == 39
    assert stats["pages_with_replaced_bytes"] == 1 and stats["bytes_replaced"] == 1 and stats.skipped == 0
    # mostly undecodable: still a skip (the caller counts non_utf8)
    assert decode_body("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e".encode("latin-1"), None, stats) is None
