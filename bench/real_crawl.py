"""Build a labelled crawl of REAL HTML pages from Debian documentation packages (issue 14).

No one here wrote these pages: they are the HTML manuals that Debian ships (Sphinx, texinfo, doxygen,
hand-written sites), fetched with `apt-get download`, unpacked with `dpkg-deb -x`, given the URL of
their upstream site and packed into WARC.gz shards with warcio (HTTP response records, one gzip
member per record, `Content-Type: text/html` without a charset, as many servers send it).

    .venv/bin/python bench/real_crawl.py --out runs/realcrawl [--debs /tmp/seekmath-debs] [--math-share 0.08]
    .venv/bin/python bench/real_crawl.py --out runs/realcrawl --measure-read     # read+extract documents/CPU-s
    .venv/bin/seekmath corpus build --config tiny --input runs/realcrawl/warc --out runs/realcorpus \
        --labels runs/realcrawl/labels.jsonl --seed-prefix docs.scipy.org/doc/scipy/tutorial/stats/

Writes OUT/warc/shard-NNNNN.warc.gz, OUT/labels.jsonl (url, is_math, planted: null, site, package),
OUT/seed.jsonl (the seed site's pages as {url, html}: an external seed for --seed-file) and
OUT/crawl.json (pages, math share, per-site counts, the seed prefix). Nothing is committed: data
stays under OUT (runs/ or /tmp) and the .deb cache.

Labels, by judgement, per package (and, for SciPy, per section of the site):
- math (is_math = true): python-mpmath-doc (arbitrary-precision special functions, with formulas on
  nearly every page), python-cvxopt-doc (convex optimisation: cone programs, KKT systems, written in
  formulas), ceres-solver-doc (non-linear least squares: modelling, solvers, derivatives), euler-doc
  (the Euler Math Toolbox: a numerical/symbolic math system's manual), and the SciPy tutorial
  (`tutorial/`: statistics distributions with their densities, integration, optimisation, linear
  algebra, interpolation, signal processing).
- not math: SciPy's developer guide and release notes (`dev/`, `release*`; same host as the
  tutorial, so the site is mixed), the web/software documentation of celery, flask, werkzeug,
  jinja2, click, requests, sqlalchemy, cryptography, babel, xarray, pandas, cmake, sphinx, zsh, vim,
  nodejs, glib, FRR (routing), R's HTML manuals and Debian's developers reference and
  policy. Some of these mention numbers, dates or statistics (pandas, xarray) — hard negatives, as
  in a web crawl.
- left out as ambiguous (a mix of math and non-math we could not label per package): octave-doc,
  gnuplot-doc, fflas-ffpack-user-doc (and pari-doc ships no HTML).
Reserved for an independent check and never used here: maxima-doc, gap-doc, python-sympy-doc,
giac-doc, libflint-arb-doc, libflint-doc, python3.11-doc, git-doc, apache2-doc, postgresql-doc-15,
python-django-doc, debian-reference-en, bash-doc.

The math share is brought to `--math-share` (default 8%, at most 10%) by sampling math pages
(deterministic for `--seed`); the seed site is sampled last so it keeps its pages.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import subprocess
import sys
import uuid
from pathlib import Path

# package, host, path inside the package's html root (glob), url base path, label rule
# label: True / False, or a list of (regex on the relative path, bool) checked in order
SITES = [
    ("python-scipy-doc", "docs.scipy.org", "usr/share/doc/python-scipy-doc/html", "/doc/scipy/",
     [(r"^tutorial/", True), (r"^(dev/|release)", False)]),
    ("python-mpmath-doc", "mpmath.org", "usr/share/doc/python-mpmath-doc/html", "/doc/current/", True),
    ("python-cvxopt-doc", "cvxopt.org", "usr/share/doc/python-cvxopt-doc/html", "/userguide/", True),
    ("ceres-solver-doc", "ceres-solver.org", "usr/share/doc/ceres-solver-doc/html", "/", True),
    ("euler-doc", "euler.rene-grothmann.de", "usr/share/doc/euler-doc", "/", True),
    ("python-celery-doc", "docs.celeryq.dev", "usr/share/doc/python-celery-doc/html", "/en/stable/", False),
    ("python-flask-doc", "flask.palletsprojects.com", "usr/share/doc/python-flask-doc/html", "/en/2.2.x/", False),
    ("python-werkzeug-doc", "werkzeug.palletsprojects.com", "usr/share/doc/python-werkzeug-doc/html", "/en/2.2.x/", False),
    ("python-jinja2-doc", "jinja.palletsprojects.com", "usr/share/doc/python-jinja2-doc/html", "/en/3.1.x/", False),
    ("python-click-doc", "click.palletsprojects.com", "usr/share/doc/python-click-doc/html", "/en/8.1.x/", False),
    ("python-requests-doc", "requests.readthedocs.io", "usr/share/doc/python-requests-doc/html", "/en/latest/", False),
    ("python-sqlalchemy-doc", "docs.sqlalchemy.org", "usr/share/doc/python-sqlalchemy-doc/html", "/en/14/", False),
    ("python-cryptography-doc", "cryptography.io", "usr/share/doc/python-cryptography-doc/html", "/en/latest/", False),
    ("python-babel-doc", "babel.pocoo.org", "usr/share/doc/python-babel-doc/html", "/en/latest/", False),
    ("python-xarray-doc", "docs.xarray.dev", "usr/share/doc/python-xarray-doc/html", "/en/stable/", False),
    ("python-pandas-doc", "pandas.pydata.org", "usr/share/doc/python-pandas-doc/html", "/docs/", False),
    ("cmake-doc", "cmake.org", "usr/share/doc/cmake-data/html", "/cmake/help/latest/", False),
    ("sphinx-doc", "www.sphinx-doc.org", "usr/share/doc/sphinx-doc/html", "/en/master/", False),
    ("zsh-doc", "zsh.sourceforge.io", "usr/share/doc/zsh-common/html", "/Doc/Release/", False),
    ("vim-doc", "vimhelp.org", "usr/share/doc/vim/html", "/", False),
    ("nodejs-doc", "nodejs.org", "usr/share/doc/nodejs/api", "/docs/latest-v18.x/api/", False),
    ("libglib2.0-doc", "docs.gtk.org", "usr/share/gtk-doc/html/glib", "/glib/", False),
    ("frr-doc", "docs.frrouting.org", "usr/share/doc/frr/html", "/en/latest/", False),
    ("r-doc-html", "cran.r-project.org", "usr/share/R/doc/manual", "/doc/manuals/r-release/", False),
    ("developers-reference", "www.debian.org", "usr/share/developers-reference", "/doc/manuals/developers-reference/", False),
    ("debian-policy", "www.debian.org", "usr/share/doc/debian-policy", "/doc/debian-policy/", False),
]
SEED_SITE = "python-scipy-doc"
SEED_PREFIX = "docs.scipy.org/doc/scipy/tutorial/stats/"
RESERVED = {"maxima-doc", "gap-doc", "python-sympy-doc", "giac-doc", "libflint-arb-doc", "libflint-doc", "python3.11-doc",
            "git-doc", "apache2-doc", "postgresql-doc-15", "python-django-doc", "debian-reference-en", "bash-doc"}
PAGES_PER_SHARD = 400


def fetch(package: str, debs: Path) -> Path:
    """`apt-get download` the package into `debs` (once) and unpack it with `dpkg-deb -x`; the unpacked root."""
    if package in RESERVED:
        raise SystemExit(f"{package} is reserved for an independent check")
    root = debs / "x" / package
    if root.is_dir():
        return root
    if not list(debs.glob(f"{package}_*.deb")):
        subprocess.run(["apt-get", "download", package], cwd=debs, check=True, stdout=subprocess.DEVNULL)
    deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
    tmp = root.with_name(root.name + ".tmp")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp)], check=True)
    tmp.rename(root)
    return root


def label_of(rule, rel: str) -> bool | None:
    if isinstance(rule, bool):
        return rule
    for pattern, value in rule:
        if re.search(pattern, rel):
            return value
    return None  # a page the rules do not cover is left out


def site_pages(root: Path, html_root: str, rule) -> list[tuple[str, bytes, bool]]:
    """(relative path, bytes, is_math) of the HTML files of one package (symlinks followed, empty files skipped)."""
    base = root / html_root
    out = []
    for p in sorted(base.rglob("*")):
        if p.suffix.lower() not in (".html", ".htm") or not p.is_file():
            continue
        rel = p.relative_to(base).as_posix()
        lab = label_of(rule, rel)
        if lab is None:
            continue
        data = p.read_bytes()
        if len(data) < 200:
            continue
        out.append((rel, data, lab))
    return out


def write_warc(path: Path, pages: list[tuple[str, bytes]], rng: random.Random) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    for url, body in pages:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                   warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>",
                                                      "WARC-Date": "2026-11-29T00:00:00Z"})
        w.write_record(rec)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.rename(path)


def measure_read(folder: Path) -> dict:
    """Read + extract every page of the crawl in this one process: documents per CPU-second (process time,
    robust on a shared machine) and per wall second, with the HTML bytes read."""
    import time

    from seekmath.corpus.read import SkipStats, iter_documents

    stats = SkipStats()
    c0, w0 = time.process_time(), time.perf_counter()
    docs = sum(1 for _ in iter_documents(folder, stats))
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    size = sum(p.stat().st_size for p in folder.rglob("*.warc.gz"))
    return {"documents": docs, "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2),
            "documents_per_cpu_second": round(docs / cpu, 1), "documents_per_wall_second": round(docs / wall, 1),
            "warc_gz_bytes": size, "skipped": {k: v for k, v in stats.as_dict().items() if v and k not in ("records", "documents")}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output folder (warc/, labels.jsonl, seed.jsonl, crawl.json)")
    ap.add_argument("--measure-read", action="store_true",
                    help="only measure read + extract over OUT/warc (one process) and print documents per CPU-second")
    ap.add_argument("--debs", default="/tmp/seekmath-debs", help="cache of downloaded .deb files and unpacked trees")
    ap.add_argument("--math-share", type=float, default=0.08, help="share of math pages in the crawl (<= 0.10)")
    ap.add_argument("--max-site-pages", type=int, default=1000, help="pages kept per package at most (sampled)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.measure_read:
        print(json.dumps(measure_read(Path(args.out) / "warc"), indent=2))
        return 0
    if not 0 < args.math_share <= 0.10:
        ap.error("--math-share must be in (0, 0.10]")
    debs = Path(args.debs)
    debs.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    (out / "warc").mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    math_pages, other_pages, per_site = [], [], {}
    for package, host, html_root, base, rule in SITES:
        root = fetch(package, debs)
        pages = site_pages(root, html_root, rule)
        if len(pages) > args.max_site_pages:
            pages = sorted(rng.sample(pages, args.max_site_pages))
        for rel, data, lab in pages:
            row = {"url": f"https://{host}{base}{rel}", "is_math": lab, "planted": None, "site": host, "package": package}
            (math_pages if lab else other_pages).append((row, data))
        per_site[package] = {"host": host, "pages": len(pages), "math": sum(1 for p in pages if p[2])}
        print(f"{package:26s} {host:32s} {len(pages):5d} pages, {per_site[package]['math']:4d} math", file=sys.stderr)
    # bring the math share down to the target: sample the other math sites first, the seed site last
    n_math = int(args.math_share * len(other_pages) / (1 - args.math_share))
    if len(math_pages) > n_math:
        seed_rows = [p for p in math_pages if p[0]["package"] == SEED_SITE]
        rest = [p for p in math_pages if p[0]["package"] != SEED_SITE]
        keep_rest = max(0, n_math - len(seed_rows) // 2)
        keep_seed = n_math - min(keep_rest, len(rest))
        math_pages = rng.sample(seed_rows, min(keep_seed, len(seed_rows))) + rng.sample(rest, min(keep_rest, len(rest)))
    pages = math_pages + other_pages
    rng.shuffle(pages)  # a crawl interleaves sites
    labels, seed_rows = [], []
    for s in range(0, len(pages), PAGES_PER_SHARD):
        chunk = pages[s:s + PAGES_PER_SHARD]
        write_warc(out / "warc" / f"shard-{s // PAGES_PER_SHARD:05d}.warc.gz", [(r["url"], d) for r, d in chunk], rng)
        labels += [r for r, _ in chunk]
        seed_rows += [{"url": r["url"], "html": d.decode("utf-8", "replace")} for r, d in chunk
                      if r["url"].split("://", 1)[1].startswith(SEED_PREFIX)]
    (out / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in labels), encoding="utf-8")
    (out / "seed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in seed_rows), encoding="utf-8")
    math_by_site: dict[str, int] = {}
    for r in labels:
        if r["is_math"]:
            math_by_site[r["site"]] = math_by_site.get(r["site"], 0) + 1
    summary = {"pages": len(labels), "math_pages": sum(r["is_math"] for r in labels),
               "math_share": round(sum(r["is_math"] for r in labels) / max(1, len(labels)), 4),
               "math_sites": math_by_site, "sites": len({r["site"] for r in labels}), "seed_prefix": SEED_PREFIX,
               "seed_pages": len(seed_rows), "shards": (len(pages) + PAGES_PER_SHARD - 1) // PAGES_PER_SHARD, "packages": per_site}
    (out / "crawl.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "packages"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
