"""Read crawls into documents: WARC / WET (gzip or plain), jsonl(.gz), parquet and HF `datasets`.

The paper starts from Common Crawl HTML pages (§2.1, "40B HTML web pages"); how HTML became text is
unspecified (DeepSeek-Math issue #18). We read WARC response records, honour the declared charset,
and turn HTML into text with `seekmath.corpus.extract.html_to_text`, which keeps formulas as LaTeX.
WET `conversion` records (Common Crawl's own text) and text columns of jsonl/parquet/HF inputs pass
through unchanged.

Robustness is the point of this file. A crawl is hundreds of files written by many machines; one bad
gzip member, a truncated download or a page in an undeclared legacy encoding must cost one record,
never the file or the run. Every record we drop is counted by reason in a `SkipStats`:

    corrupt_record  a gzip member that does not inflate, a truncated member or file, bytes that do not
                    parse as a WARC record, a malformed JSON line
    non_utf8        a body that does not decode with its declared charset (UTF-8 when none is declared)
                    in more than `MAX_BAD_BYTE_SHARE` of its bytes; a page with a few bad bytes (one
                    Latin-1 "Paraná" in a UTF-8 page) is kept with U+FFFD in their place, counted
                    as `pages_with_replaced_bytes` and `bytes_replaced` (not skips)
    oversized       a body larger than `max_bytes` (default 2 MiB; CC truncates at 1 MiB anyway)
    non_html        a response whose Content-Type is not HTML (PDF, images, JSON ...)
    http_status     a response that is not 200 (redirects, errors: they carry no page)
    empty_text      a page whose extracted text is empty
    extract_error   the HTML parser raised (never seen, but a crawl is adversarial)

Gzip WARCs are read member by member (Common Crawl writes one gzip member per record) with `zlib`
over an `mmap` of the file, and each member's record is parsed by FastWARC (resiliparse's C++/Rust
WARC parser, several times faster than warcio). Reading the members ourselves is what makes the
reader resynchronise after a corrupt member: FastWARC's own gzip stream stops the whole file at the
first inflate error and silently drops a truncated last record.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import mmap
import os
import re
import threading
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

from fastwarc.warc import ArchiveIterator, WarcRecordType

MAX_BAD_BYTE_SHARE = 0.01  # above 1% undecodable bytes a body is not text in its charset (binary or another encoding)
DEFAULT_MAX_BYTES = 2 << 20  # a page body above 2 MiB is a dump, not a page
GZIP_MAGIC = b"\x1f\x8b\x08"
HTML_TYPES = ("text/html", "application/xhtml+xml")
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".wat", ".wat.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")
SIDECAR_NAMES = {"labels.jsonl"}  # files a folder of crawl shards may hold that are not documents
_READ_CHUNK = 1 << 16
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_WANTED = WarcRecordType.response | WarcRecordType.resource | WarcRecordType.conversion


class SkipStats:
    """Counters of skipped records by reason, plus `records` read and `documents` yielded."""

    NOT_SKIPS = ("records", "documents", "pages_with_replaced_bytes", "bytes_replaced")  # counters, not skip reasons
    REASONS = ("corrupt_record", "non_utf8", "oversized", "non_html", "http_status", "empty_text", "extract_error")

    def __init__(self, counts: dict[str, int] | None = None):
        self.counts: Counter[str] = Counter(counts or {})

    def skip(self, reason: str, n: int = 1) -> None:
        self.counts[reason] += n

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] += n

    def __getitem__(self, reason: str) -> int:
        return self.counts.get(reason, 0)

    @property
    def skipped(self) -> int:
        return sum(v for k, v in self.counts.items() if k not in self.NOT_SKIPS)

    def merge(self, other: "SkipStats | dict[str, int]") -> "SkipStats":
        """Add another worker's counts into this one (in place); returns self."""
        self.counts.update(other.counts if isinstance(other, SkipStats) else other)
        return self

    def as_dict(self) -> dict[str, int]:
        """Every reason (zeros included, so reports have fixed columns) plus any extra counters, sorted."""
        out = {r: 0 for r in self.REASONS}
        out.update(self.counts)
        return dict(sorted(out.items()))

    def __repr__(self) -> str:
        return f"SkipStats({self.as_dict()})"


@dataclass
class RawRecord:
    """One page before extraction. `html` is set for HTML pages, `text` for already-extracted text."""

    id: str
    url: str
    source: str  # "<file name>:<byte offset>" (compressed offset of the gzip member for .gz)
    html: str | None = None
    text: str | None = None


def url_domain(url: str) -> str:
    """The host of a URL, lower-case, without port, credentials or a leading "www." (§1.4's "base URL")."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def stable_id(*parts: str) -> str:
    return hashlib.sha1("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:20]


# ---------------------------------------------------------------------------------------- decoding


def _charset_from_meta(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:4096])
    return m.group(1).decode("ascii", "ignore") if m else None


_BAD = threading.local()  # undecodable bytes seen by the error handler below, per thread


def _count_and_replace(e: UnicodeDecodeError) -> tuple[str, int]:
    _BAD.n = getattr(_BAD, "n", 0) + (e.end - e.start)
    return "\ufffd", e.end


codecs.register_error("seekmath-count-replace", _count_and_replace)


def decode_body(body: bytes, declared: str | None, stats: SkipStats | None = None) -> str | None:
    """Decode with the declared charset (HTTP header, else <meta>), UTF-8 when none; None if it fails.

    An unknown charset name falls back to UTF-8. Legacy single-byte declarations (latin-1, cp1252...)
    decode anything, which is the point of honouring them. A body with a few undecodable bytes (at most
    `MAX_BAD_BYTE_SHARE` of them) is decoded with U+FFFD in their place, counted in `stats`.
    """
    charset = declared or _charset_from_meta(body) or "utf-8"
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        codec = "utf-8"
    if codec == "iso8859-1":  # browsers read latin-1 as windows-1252 (WHATWG encoding standard)
        codec = "cp1252"
    try:
        return body.decode(codec)
    except UnicodeDecodeError:
        if codec == "cp1252":
            return body.decode("latin-1")
    _BAD.n = 0
    text = body.decode(codec, errors="seekmath-count-replace")
    bad = _BAD.n
    if bad > MAX_BAD_BYTE_SHARE * max(1, len(body)):
        return None
    if stats is not None:
        stats.add("pages_with_replaced_bytes")
        stats.add("bytes_replaced", bad)
    return text


# ---------------------------------------------------------------------------------------- WARC / WET


def _record_to_raw(rec, fname: str, offset: int | str, stats: SkipStats, max_bytes: int) -> RawRecord | None:
    url = rec.headers.get("WARC-Target-URI") or ""
    rid = (rec.record_id or "").strip("<>")
    rid = rid[len("urn:uuid:"):] if rid.startswith("urn:uuid:") else rid
    source = f"{fname}:{offset}"
    doc_id = rid or stable_id(source, url)
    stats.add("records")
    if rec.record_type == WarcRecordType.conversion:  # WET: Common Crawl's extracted text, UTF-8
        body = rec.reader.read(max_bytes + 1)
        if len(body) > max_bytes:
            stats.skip("oversized")
            return None
        text = decode_body(body, "utf-8", stats)
        if text is None:
            stats.skip("non_utf8")
            return None
        return RawRecord(doc_id, url, source, text=text)
    if rec.is_http:
        status = rec.http_headers.status_code
        if status is not None and status != 200:
            stats.skip("http_status")
            return None
        ctype = (rec.http_content_type or "").lower()
        charset = rec.http_charset
    else:  # a `resource` record: its own Content-Type
        raw = (rec.headers.get("Content-Type") or "").lower()
        ctype = raw.split(";")[0].strip()
        m = re.search(r"charset\s*=\s*([\w.:-]+)", raw)
        charset = m.group(1) if m else None
    body = rec.reader.read(max_bytes + 1)
    if len(body) > max_bytes:
        stats.skip("oversized")
        return None
    if ctype:
        if not ctype.startswith(HTML_TYPES):
            stats.skip("non_html")
            return None
    elif not re.match(rb"\s*(<!doctype html|<html|<head|<body)", body[:1024], re.I):
        stats.skip("non_html")
        return None
    html = decode_body(body, charset, stats)
    if html is None:
        stats.skip("non_utf8")
        return None
    return RawRecord(doc_id, url, source, html=html)


def _parse_member(data, fname: str, offset: int, stats: SkipStats, max_bytes: int) -> Iterator[RawRecord]:
    """Records of one inflated gzip member: bytes, or a file object for a member too large for memory.

    Common Crawl writes one record per member, whose source is "<file>:<member offset>". A member
    holding several records (a whole file gzipped at once) gives "<file>:<member offset>+<offset
    inside the inflated member>" from its second record on.
    """
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        it = ArchiveIterator(stream, record_types=_WANTED, parse_http=True, auto_decode="all",
                             stream_detect=False)
        got_any = False
        for rec in it:
            got_any = True
            inner = rec.stream_pos
            raw = _record_to_raw(rec, fname, offset if inner == 0 else f"{offset}+{inner}", stats, max_bytes)
            if raw is not None:
                yield raw
        if not got_any:
            stream.seek(0)
            if not stream.read(64).lstrip().startswith(b"WARC/"):
                stats.skip("corrupt_record")
    except (OSError, ValueError, RuntimeError):  # fastwarc raises OSError/ValueError on bad records
        stats.skip("corrupt_record")


def _inflate_member_to_file(view, pos: int):
    """Inflate the gzip member at `pos` into a temporary file (bounded memory); None if it is corrupt."""
    import tempfile

    tmp = tempfile.TemporaryFile()
    d = zlib.decompressobj(31)
    fed = pos
    try:
        while not d.eof and fed < len(view):
            chunk = view[fed:fed + _READ_CHUNK]
            fed += len(chunk)
            tmp.write(d.decompress(chunk))
    except zlib.error:
        tmp.close()
        return None
    tmp.seek(0)
    return tmp


def _gzip_members(mm, stats: SkipStats, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(offset, inflated bytes) per gzip member of a mapped file; bytes None when over `limit`.

    A member that fails to inflate or ends early is counted as `corrupt_record` and reading resumes
    at the next gzip magic after it.
    """
    view = memoryview(mm)
    size = len(mm)
    pos = 0
    while pos < size:
        if mm[pos:pos + 3] != GZIP_MAGIC:
            nxt = mm.find(GZIP_MAGIC, pos + 1)
            if pos < size and any(mm[pos:min(size, pos + 64)].strip(b"\x00\r\n \t")):
                stats.skip("corrupt_record")  # garbage between members
            if nxt < 0:
                return
            pos = nxt
        d = zlib.decompressobj(31)
        parts: list[bytes] = []
        produced = 0
        fed = pos
        ok = True
        try:
            while not d.eof and fed < size:
                chunk = view[fed:fed + _READ_CHUNK]
                fed += len(chunk)
                out = d.decompress(chunk)
                produced += len(out)
                if produced <= limit:
                    parts.append(out)
                else:
                    parts.clear()
        except zlib.error:
            ok = False
        if ok and d.eof:
            end = fed - len(d.unused_data)
            yield pos, (b"".join(parts) if produced <= limit else None)
            pos = end
        else:  # corrupt or truncated member: skip to the next magic
            stats.skip("corrupt_record")
            nxt = mm.find(GZIP_MAGIC, pos + 1)
            if nxt < 0:
                return
            pos = nxt
    view.release()


def _find_forward(f, start: int, needle: bytes, window: int = 1 << 20) -> int:
    """Offset of the next `needle` at or after `start` in a binary file, -1 if none."""
    pos = start
    while True:
        f.seek(pos)
        block = f.read(window + len(needle))
        if not block:
            return -1
        i = block.find(needle)
        if i >= 0:
            return pos + i
        if len(block) <= len(needle):
            return -1
        pos += window


def _iter_plain_warc(path: Path, stats: SkipStats, max_bytes: int) -> Iterator[RawRecord]:
    fname = path.name
    with open(path, "rb") as f:
        start = 0
        while True:
            f.seek(start)
            last = start
            try:
                for rec in ArchiveIterator(f, record_types=_WANTED, parse_http=True, auto_decode="all",
                                           stream_detect=False):
                    last = start + rec.stream_pos
                    raw = _record_to_raw(rec, fname, last, stats, max_bytes)
                    if raw is not None:
                        yield raw
                return
            except (OSError, ValueError, RuntimeError):
                stats.skip("corrupt_record")
                # resynchronise on the next record header after the last good one (scan in 1 MiB windows)
                nxt = _find_forward(f, last + 1, b"\nWARC/1.")
                if nxt < 0:
                    return
                start = nxt + 1


def iter_warc_records(path: str | Path, stats: SkipStats, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[RawRecord]:
    """Raw HTML/text records of a WARC or WET file, gzip (per-record members) or plain."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(3)
    if head != GZIP_MAGIC:
        yield from _iter_plain_warc(path, stats, max_bytes)
        return
    # members above this size are inflated to a temporary file instead of memory
    member_limit = max(max_bytes, 1 << 20) + (256 << 10)
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            for offset, data in _gzip_members(mm, stats, member_limit):
                if data is None:  # a big member: a whole file gzipped as one (its records are checked one by one)
                    tmp = _inflate_member_to_file(memoryview(mm), offset)
                    if tmp is None:
                        stats.skip("corrupt_record")
                        continue
                    with tmp:
                        yield from _parse_member(tmp, path.name, offset, stats, max_bytes)
                    continue
                yield from _parse_member(data, path.name, offset, stats, max_bytes)


# ---------------------------------------------------------------------------------------- jsonl / parquet / HF


def _row_to_raw(row: dict[str, Any], source: str, stats: SkipStats) -> RawRecord | None:
    meta = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    url = str(row.get("url") or meta.get("url") or "")
    stats.add("records")
    text = row.get("text")
    html = row.get("html") if not isinstance(text, str) else None
    if not isinstance(text, str) and not isinstance(html, str):
        stats.skip("corrupt_record")
        return None
    rid = row.get("id")
    doc_id = str(rid) if rid is not None and rid != "" else stable_id(source, url)
    return RawRecord(doc_id, url, source, html=html if isinstance(html, str) else None,
                     text=text if isinstance(text, str) else None)


def _iter_jsonl(path: Path, stats: SkipStats) -> Iterator[RawRecord]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            offset = 0
            for line in f:
                here = offset
                offset += len(line)
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    stats.add("records")
                    stats.skip("corrupt_record")
                    continue
                if not isinstance(row, dict):
                    stats.add("records")
                    stats.skip("corrupt_record")
                    continue
                raw = _row_to_raw(row, f"{path.name}:{here}", stats)
                if raw is not None:
                    yield raw
    except (EOFError, OSError, zlib.error):  # truncated or corrupt gzip: keep what was read
        stats.skip("corrupt_record")


def _iter_parquet(path: Path, stats: SkipStats) -> Iterator[RawRecord]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        row = 0
        for batch in pf.iter_batches(batch_size=1024):
            for rec in batch.to_pylist():
                raw = _row_to_raw(rec, f"{path.name}:{row}", stats)
                row += 1
                if raw is not None:
                    yield raw
    except (OSError, ValueError) as e:  # pyarrow raises ArrowInvalid (a ValueError) on corrupt files
        del e
        stats.skip("corrupt_record")


def iter_hf_records(spec: str, stats: SkipStats, split: str = "train") -> Iterator[RawRecord]:
    """`hf:NAME[@SPLIT]` — a Hugging Face dataset (hub name or local folder), streamed."""
    import datasets

    name = spec[3:] if spec.startswith("hf:") else spec
    if "@" in name:
        name, split = name.rsplit("@", 1)
    ds = datasets.load_dataset(name, split=split, streaming=True)
    tag = name.rstrip("/").split("/")[-1]
    for i, row in enumerate(ds):
        raw = _row_to_raw(row, f"{tag}:{i}", stats)
        if raw is not None:
            yield raw


# ---------------------------------------------------------------------------------------- public API


def input_kind(path: str | Path) -> str:
    name = str(path).lower()
    if name.startswith("hf:"):
        return "hf"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    return "unknown"


def list_input_files(inputs: str | Path | Iterable[str | Path]) -> list[str]:
    """Expand files and folders (recursively, sorted) into readable inputs; `hf:` specs pass through.

    In a folder, hidden files and `labels.jsonl` (the demo crawl's ground truth) are not inputs.
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    out: list[str] = []
    for item in inputs:
        s = str(item)
        if s.startswith("hf:"):
            out.append(s)
            continue
        p = Path(s)
        if p.is_dir():
            out += sorted(str(q) for q in p.rglob("*") if q.is_file() and input_kind(q) != "unknown"
                          and q.name not in SIDECAR_NAMES and not q.name.startswith("."))
        elif p.is_file():
            if input_kind(p) == "unknown":
                raise ValueError(f"{p}: unknown input format (expected .warc[.gz], .wet[.gz], .jsonl[.gz], .parquet)")
            out.append(str(p))
        else:
            raise FileNotFoundError(f"input not found: {p}")
    return out


def iter_records(path: str | Path, stats: SkipStats, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[RawRecord]:
    """Raw records (before extraction) of one input file or `hf:` spec."""
    kind = input_kind(path)
    if kind == "hf":
        yield from iter_hf_records(str(path), stats)
        return
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input not found: {path}")
    if kind == "warc":
        yield from iter_warc_records(path, stats, max_bytes)
    elif kind == "jsonl":
        yield from _iter_jsonl(path, stats)
    elif kind == "parquet":
        yield from _iter_parquet(path, stats)
    else:
        raise ValueError(f"{path}: unknown input format (expected .warc[.gz], .wet[.gz], .jsonl[.gz], .parquet, hf:NAME)")


def record_to_document(raw: RawRecord, stats: SkipStats) -> dict[str, str] | None:
    """Extract a raw record's text; None (counted) when nothing is left."""
    from seekmath.corpus.extract import html_to_text

    if raw.html is not None:
        try:
            text = html_to_text(raw.html, raw.url)
        except Exception:  # noqa: BLE001 - one adversarial page must not stop a crawl
            stats.skip("extract_error")
            return None
    else:
        text = (raw.text or "").strip()
    if not text:
        stats.skip("empty_text")
        return None
    stats.add("documents")
    return {"id": raw.id, "url": raw.url, "domain": url_domain(raw.url), "text": text, "source": raw.source}


def iter_documents(path: str | Path, stats: SkipStats | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[dict]:
    """Documents `{"id", "url", "domain", "text", "source"}` of one input (file, folder or `hf:` spec).

    `id` is the WARC-Record-ID's UUID (a row's `id` for tabular inputs), else a hash of the crawl
    location; `source` is "<file name>:<offset>". Skips are counted in `stats`.
    """
    stats = stats if stats is not None else SkipStats()
    p = Path(str(path))
    paths = list_input_files(path) if (not str(path).startswith("hf:") and p.is_dir()) else [str(path)]
    for one in paths:
        for raw in iter_records(one, stats, max_bytes):
            doc = record_to_document(raw, stats)
            if doc is not None:
                yield doc
