"""HTML -> text: seekmath's extractor side by side with trafilatura and resiliparse's main-content mode (issue 14).

Pages: the real web pages of ../shared/data/web/trafilatura/cache (24 pages: Wikipedia with 34 MathML
formulas, news, blogs, non-English), and with `--warc` the pages of a crawl built by
bench/real_crawl.py (real documentation sites: Sphinx, texinfo, doxygen), sampled per site.

Per extractor and page group, summed over pages:
  words        words of extracted text
  links kept   words of in-prose link text (anchors inside <p>) found in the output / all such words
  formulas     formulas whose TeX source (MathML annotation/alttext, MathJax script, formula-image alt,
               Sphinx \\(..\\)) appears in the output (spaces ignored) / formulas on the pages
  boilerplate  output lines of <= 10 words holding one of OpenWebMath's boilerplate phrases (whole words)
               (../shared/data/web/OpenWebMath/boilerplate_words.txt: an independent list), plus
               navigation lines ("Next: ... Up: ...", "Goto Chapter", a heading ending in a pilcrow)
  ms/page      wall milliseconds per page (noisy on a shared machine)

    .venv/bin/python bench/corpus_extraction_vs_peers.py [--warc runs/realcrawl/warc] [--per-site 15]

Contenders: `seekmath` = corpus.extract.html_to_text (defaults); `trafilatura` = trafilatura.extract
(defaults: main content, no comments, no tables' layout); `resiliparse-main` =
resiliparse.extract.html2text.extract_plain_text(main_content=True) (its own boilerplate removal).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

HERE = Path(__file__).resolve().parents[1]
WEB = HERE / ".." / "shared" / "data" / "web"
_NAV = re.compile(r"^(?:(?:Next|Previous|Prev|Up):\s.*\b(?:Next|Previous|Prev|Up|Contents)\b|Goto Chapter:)|[\u00b6]$")
_SPACE = re.compile(r"\s+")


def formulas_in(html: str) -> list[str]:
    """TeX sources of the formulas of a page, read from the DOM (the ground truth for 'formulas kept')."""
    tree = HTMLTree.parse(html)
    root = tree.body
    if root is None:
        return []
    out = []
    for m in root.query_selector_all("math"):
        ann = m.query_selector('annotation[encoding="application/x-tex"]')
        tex = ann.text if ann is not None else (m.getattr("alttext") or "")
        out.append(tex)
    for s in root.query_selector_all('script[type^="math/tex"]'):
        out.append(s.text)
    for img in root.query_selector_all("img.math, img.tex, img.latex, div.math img"):
        out.append(img.getattr("alt") or "")
    for el in root.query_selector_all("span.math, div.math"):
        if el.query_selector("img, math") is None:
            out.append(el.text)
    cleaned = []
    for tex in out:
        tex = tex.strip()
        m = re.match(r"^\{\\displaystyle\s*(.*)\}$", tex, re.S)
        tex = m.group(1) if m else tex
        tex = re.sub(r"^(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)$", "", tex.strip())
        tex = _SPACE.sub("", tex)
        if len(tex) >= 2:  # one-letter formulas would match anywhere
            cleaned.append(tex)
    return cleaned


def link_words(html: str) -> list[str]:
    """Words of link text inside paragraphs (prose links, not menus)."""
    tree = HTMLTree.parse(html)
    if tree.body is None:
        return []
    words = []
    for a in tree.body.query_selector_all("p a"):
        words += [w for w in a.text.split() if len(w) > 2 and w.isalnum()]
    return words


def load_boilerplate() -> list[str]:
    p = WEB / "OpenWebMath" / "boilerplate_words.txt"
    return [ln.strip().lower() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()] if p.is_file() else []


def boilerplate_lines(text: str, phrases: list[str]) -> int:
    """Navigation lines, and short lines holding a boilerplate phrase as whole words ("ad" must not match "read")."""
    pat = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in phrases) + r")(?!\w)") if phrases else None
    n = 0
    for ln in text.splitlines():
        ln = ln.strip()
        if not ln:
            continue
        if _NAV.search(ln):
            n += 1
        elif pat is not None and len(ln.split()) <= 10 and pat.search(ln.lower()):
            n += 1
    return n


def extractors():
    import trafilatura

    from seekmath.corpus.extract import html_to_text

    return {
        "seekmath": lambda h: html_to_text(h),
        "trafilatura": lambda h: trafilatura.extract(h) or "",
        "resiliparse-main": lambda h: extract_plain_text(h, main_content=True),
    }


def trafilatura_pages() -> list[tuple[str, str, str]]:
    cache = WEB / "trafilatura" / "cache"
    if not cache.is_dir():
        return []
    out = []
    for p in sorted(cache.glob("*.html")):
        group = "web: Wikipedia (math)" if p.name.startswith("en.wikipedia") else "web: news/blogs (23)"
        out.append((group, p.name, p.read_bytes().decode("utf-8", "replace")))
    return out


def warc_pages(folder: str, per_site: int) -> list[tuple[str, str, str]]:
    from seekmath.corpus.read import SkipStats, iter_records, list_input_files, url_domain

    seen: dict[str, int] = {}
    out = []
    for f in list_input_files(folder):
        for raw in iter_records(f, SkipStats()):
            if raw.html is None:
                continue
            site = url_domain(raw.url)
            if seen.get(site, 0) >= per_site:
                continue
            seen[site] = seen.get(site, 0) + 1
            out.append(("docs: " + site, raw.url, raw.html))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warc", default=None, help="also the pages of a real crawl (bench/real_crawl.py's warc/ folder)")
    ap.add_argument("--per-site", type=int, default=15, help="pages per site from --warc")
    ap.add_argument("--by-site", action="store_true", help="one row per documentation site (default: all docs together)")
    args = ap.parse_args(argv)
    pages = trafilatura_pages()
    if args.warc:
        pages += warc_pages(args.warc, args.per_site)
    if not pages:
        print("no pages: ../shared/data/web/trafilatura/cache is absent and no --warc was given", file=sys.stderr)
        return 1
    phrases = load_boilerplate()
    ex = extractors()
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for group, name, html in pages:
        if not args.by_site and group.startswith("docs: "):
            group = "docs: all sites"
        truth = formulas_in(html)
        links = link_words(html)
        for ename, fn in ex.items():
            t0 = time.perf_counter()
            text = fn(html)
            dt = time.perf_counter() - t0
            flat = _SPACE.sub("", text)
            out_words = set(re.findall(r"\w+", text))
            r = rows.setdefault((group, ename), {"pages": 0, "words": 0, "links": 0, "links_all": 0, "formulas": 0,
                                                 "formulas_all": 0, "boilerplate": 0, "seconds": 0.0})
            r["pages"] += 1
            r["words"] += len(text.split())
            r["links_all"] += len(links)
            r["links"] += sum(1 for w in links if w in out_words)
            r["formulas_all"] += len(truth)
            r["formulas"] += sum(1 for tex in truth if tex in flat)
            r["boilerplate"] += boilerplate_lines(text, phrases)
            r["seconds"] += dt
    print("| pages | extractor | pages | words | link words kept | formulas kept (TeX) | boilerplate lines | ms/page |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (group, ename), r in sorted(rows.items()):
        links = f"{r['links']}/{r['links_all']}" + (f" ({r['links'] / r['links_all']:.0%})" if r["links_all"] else "")
        forms = f"{r['formulas']}/{r['formulas_all']}" + (f" ({r['formulas'] / r['formulas_all']:.0%})" if r["formulas_all"] else "")
        print(f"| {group} | {ename} | {r['pages']} | {r['words']} | {links} | {forms} | {r['boilerplate']} | "
              f"{1000 * r['seconds'] / r['pages']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
