"""HTML → text that keeps mathematics as LaTeX, with boilerplate removed.

Why math-aware extraction matters: generic extractors (trafilatura, resiliparse's plain mode) drop
`<script>` elements — where MathJax keeps its TeX — and print KaTeX/MathML as a jumble of glyphs, so a
page full of formulas becomes prose with holes. OpenWebMath (the DeepSeekMath seed, §1.1) showed that
recovering the TeX source is what makes math pages usable; DeepSeekMath does not say how it extracted
text (its issue #18), so we do what OpenWebMath describes, in three passes over one parsed DOM:

1. Math → LaTeX text nodes, in place:
   - MathJax v2 `<script type="math/tex">` → `$…$`, `type="math/tex; mode=display"` → `$$…$$`;
     its rendered copies (`.MathJax`, `.MathJax_Preview`, …) are deleted;
   - KaTeX: the TeX in `<annotation encoding="application/x-tex">` of each `.katex` replaces the whole
     element (the `.katex-html` rendering is a duplicate); `.katex-display` → `$$…$$`;
   - MathML `<math>`: its TeX annotation, else `alttext`, else its text; `display="block"` → `$$…$$`;
     Wikipedia's `.mwe-math-element` wrapper (hidden MathML + fallback image) collapses to one formula,
     and `{\\displaystyle …}` wrappers are unwrapped;
   - formula images (`img.tex`, `img.latex`, `img.math`, codecogs/latex.php sources) → their alt text
     as `$…$`; Sphinx's imgmath display blocks (`<div class="math"><p><img alt="TeX">`) → `$$…$$`;
   - fractions laid out as a table (numerator row, a rule `<hr>` or a bordered cell, denominator row)
     → `(num)/(den)`;
   - TeX already in the text (`$…$`, `\\(…\\)`, Sphinx-MathJax's `\\[…\\]`) is text and is kept as it is.
2. Boilerplate: navigation/header/footer/aside/forms and a list of our own CSS selectors are skipped
   (documentation generators' chrome included: texinfo's "Next: … Up: …" header, GAP's "Goto
   Chapter" bars, Sphinx's ¶/# heading links), and link-dense lists/tables (most of their text is
   anchor text) are deleted. Link text inside prose is content and is kept. resiliparse's
   main-content heuristics are optional (off by default, see `html_to_text`).
3. Lines that are only site chrome ("All rights reserved", "Share this", cookie notices, a texinfo
   navigation line) are dropped; `<pre>` blocks keep their spaces and line layout (code indentation,
   2-D formula output) and are never filtered.

Parsing is resiliparse's lexbor-based `HTMLTree` (C); we never parse HTML by hand.
"""

from __future__ import annotations

import html as htmllib
import re

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

# Our own list of CSS selectors for page chrome (written for this project; see OpenWebMath's
# banned_selectors.txt for a longer list of the same idea).
SKIP_SELECTORS = [
    "nav", "footer", "aside", "form", "noscript", "iframe", "svg", "button", "select",
    "[role=navigation]", "[role=banner]", "[role=contentinfo]", "[aria-hidden=true]:not(.katex-html)",
    ".breadcrumb", ".breadcrumbs", ".sidebar", "#sidebar", ".menu", "#menu", ".navbar", ".nav",
    "body > header", ".site-header", ".site-footer", ".cookie", ".cookies", ".cookie-banner", "#cookie-notice",
    ".share", ".sharing", ".social", ".social-links", ".related", ".related-posts", ".related-questions",
    ".advert", ".ads", ".ad", ".sponsored", ".newsletter", ".subscribe", ".pagination", ".pager",
    ".vote", ".votes", ".vote-count", ".user-card", ".user-info", ".post-signature", ".tags", ".tag-list",
    ".login", ".signup", ".skip-link", ".toc", "#toc", ".mw-editsection", "sup.reference", ".mw-jump-link",
    "[class*=cookie]", "[id*=cookie]", "[class*=consent]", "#comments", ".comments", ".comment-form",
    ".mw-navigation", "#mw-navigation", "#mw-panel", ".vector-menu", ".printfooter", "#catlinks", ".navbox",
    # documentation generators: Sphinx (heading permalinks, sidebars), texinfo (navigation header, ¶ anchors),
    # GAP (chapter and previous/next bars), doxygen (navigation rows)
    "a.headerlink", ".sphinxsidebar", "div.header", "div.nav-panel", "a.copiable-anchor", "a.copiable-link",
    ".chlinktop", ".chlinkbot", ".chlinkprevnexttop", ".chlinkprevnextbot", ".chlinkprevnext", "#navrow1", "#navrow2",
    ".navpath",
]
_SKIP_CSS = ", ".join(SKIP_SELECTORS)

# Lines that carry no content when they stand alone (lower-case substrings, short lines only).
BOILERPLATE_PHRASES = (
    "all rights reserved", "copyright ©", "©", "privacy policy", "terms of service", "terms of use",
    "cookie", "sign up", "log in", "login", "subscribe", "newsletter", "share this", "share on",
    "follow us", "skip to content", "skip to main", "back to top", "powered by", "read more",
    "advertisement", "sponsored", "related posts", "related questions", "previous post", "next post",
    "leave a comment", "add a comment", "retrieved from", "jump to navigation", "jump to search",
)
_BOILERPLATE_MAX_WORDS = 12
# Whole lines that are share buttons or menu labels.
BOILERPLATE_LINES = {"twitter", "facebook", "linkedin", "reddit", "pinterest", "whatsapp", "email", "print", "share",
                     "tweet", "menu", "search", "home", "navigation menu", "loading comments...", "categories:",
                     "hidden categories:", "contents", "edit", "reply", "report"}

_MATHJAX_RENDERED = ".MathJax_Preview, .MathJax, .MathJax_Display, .MathJax_SVG, .MathJax_SVG_Display, .MathJax_CHTML, .MathJax_MathML"
_DISPLAYSTYLE = re.compile(r"^\{\\(?:displaystyle|textstyle|scriptstyle)\s*(.*)\}$", re.S)
_FORMULA_IMG = re.compile(r"(latex\.php|codecogs|mathtex|/math/render/|chart\.apis\.google\.com/chart\?cht=tx|wp-latex)", re.I)
_ANCHOR = re.compile(r"<a [^>]*>(.*?)</a>", re.S)  # applied to lexbor's own serialisation, not raw input
_TAG_OR_SPACE = re.compile(r"<[^>]*>|\s+")
_MATH_MARKERS = ("math", "Math", "MATH", "katex", "latex", "codecogs", "class=\"tex")
_MULTI_BLANK = re.compile(r"\n{3,}")
# navigation lines of texinfo ("Next: A, Previous: B, Up: C [Contents][Index]") and GAP ("Goto Chapter: Top 1 2 …")
_NAV_LINE = re.compile(r"^(?:(?:Next|Previous|Prev|Up):\s.*\b(?:Next|Previous|Prev|Up|Contents)\b|Goto Chapter:|\[Top of Book\])")
_HEADING_MARK = re.compile(r"\s*[\u00b6]$")  # a Sphinx/texinfo permalink left at the end of a heading
_PRE_OPEN, _PRE_CLOSE = "\ue000", "\ue001"  # private-use marks around <pre> text (never in real text we keep)
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean_tex(tex: str) -> str:
    """Strip whitespace and Wikipedia's `{\\displaystyle …}` wrapper (balanced-brace check)."""
    tex = tex.strip()
    m = _DISPLAYSTYLE.match(tex)
    if m:
        inner = m.group(1).strip()
        depth = 0
        for ch in inner:  # only unwrap when the outer braces really enclose everything
            depth += (ch == "{") - (ch == "}")
            if depth < 0:
                return tex
        if depth == 0:
            tex = inner
    return " ".join(tex.split()) if "\n" in tex and "\\\\" not in tex else tex


def wrap_tex(tex: str, display: bool) -> str:
    tex = clean_tex(tex)
    if not tex:
        return ""
    return f"$${tex}$$" if display else f"${tex}$"


def _replace(tree: HTMLTree, el, text: str, display: bool = False) -> None:
    parent = el.parent
    if parent is None:
        return
    if display:  # a block element so the formula gets its own line
        div = tree.create_element("div")
        div.append_child(tree.create_text_node(text))
        parent.replace_child(div, el)
    else:
        parent.replace_child(tree.create_text_node(text), el)


def _tex_of_math(el) -> str:
    ann = el.query_selector('annotation[encoding="application/x-tex"]') or el.query_selector('annotation[encoding="TeX"]')
    if ann is not None and ann.text.strip():
        return ann.text
    alt = el.getattr("alttext")
    if alt:
        return alt
    return " ".join(el.text.split())


def convert_math(tree: HTMLTree) -> int:
    """Replace every formula in the DOM by its LaTeX source as text; returns how many were found."""
    root = tree.body or tree.document
    if root is None:
        return 0
    n = 0
    # MathJax v2: TeX lives in <script type="math/tex">; the spans next to it are renderings
    for el in root.query_selector_all(_MATHJAX_RENDERED):
        if el.parent is not None:
            el.parent.remove_child(el)
    for el in root.query_selector_all('script[type^="math/tex"], script[type^="math/asciimath"]'):
        display = "mode=display" in (el.getattr("type") or "")
        # script text is raw (no entity decoding by the parser); some CMSs escape it anyway
        tex = htmllib.unescape(el.text) if "&" in el.text else el.text
        _replace(tree, el, wrap_tex(tex, display), display)
        n += 1
    # KaTeX (server-side or pre-rendered): annotation holds the TeX; drop the rendered copy
    for el in root.query_selector_all(".katex-display"):
        k = el.query_selector(".katex")
        ann = k.query_selector('annotation[encoding="application/x-tex"]') if k is not None else None
        if ann is not None:
            _replace(tree, el, wrap_tex(ann.text, True), True)
            n += 1
    for el in root.query_selector_all(".katex"):
        ann = el.query_selector('annotation[encoding="application/x-tex"]')
        if ann is not None:
            _replace(tree, el, wrap_tex(ann.text, False))
            n += 1
        else:
            for dup in el.query_selector_all(".katex-html"):
                dup.parent.remove_child(dup)
    # Wikipedia: <span class="mwe-math-element"> = hidden MathML (alttext) + fallback <img alt=TeX>
    for el in root.query_selector_all(".mwe-math-element"):
        m = el.query_selector("math")
        img = el.query_selector("img")
        tex = _tex_of_math(m) if m is not None else (img.getattr("alt") if img is not None else "")
        display = m is not None and m.getattr("display") == "block" or bool(
            img is not None and "display" in (img.getattr("class") or ""))
        _replace(tree, el, wrap_tex(tex or "", display), display)
        n += 1
    # MathJax v3 containers and bare MathML
    for el in root.query_selector_all("mjx-container"):
        m = el.query_selector("math")
        if m is not None:
            display = el.getattr("display") == "true"
            _replace(tree, el, wrap_tex(_tex_of_math(m), display), display)
            n += 1
    for el in root.query_selector_all("math"):
        display = el.getattr("display") == "block"
        _replace(tree, el, wrap_tex(_tex_of_math(el), display), display)
        n += 1
    # Sphinx imgmath display blocks: <div class="math"><p><img src="_images/math/…png" alt="TeX"></p></div>
    for el in root.query_selector_all("div.math"):
        img = el.query_selector("img[alt]")
        if img is None:
            continue
        eqno = el.query_selector(".eqno")  # an equation number "(3)" and its permalink
        number = " ".join(eqno.text.replace("\uf0c1", "").replace("\u00b6", "").split()) if eqno is not None else ""
        if el.text.replace(eqno.text if eqno is not None else "", "").strip():
            continue  # text of its own: not a formula block
        tex = wrap_tex(img.getattr("alt") or "", True)
        _replace(tree, el, f"{tex} {number}" if number else tex, True)
        n += 1
    # formula images
    for el in root.query_selector_all("img[alt]"):
        cls = (el.getattr("class") or "").lower()
        src = el.getattr("src") or ""
        if any(c in ("tex", "latex", "math", "latexinline", "mwe-math-fallback-image-inline") for c in cls.split()) or _FORMULA_IMG.search(src):
            alt = el.getattr("alt") or ""
            alt = alt[1:-1] if len(alt) > 1 and alt.startswith("$") and alt.endswith("$") else alt
            _replace(tree, el, wrap_tex(alt, False))
            n += 1
    return n


def _cell_is_rule(cell) -> bool:
    """A table cell that draws a fraction bar: an <hr> and no text, or a bottom border under the numerator."""
    return (not cell.text.strip() and cell.query_selector("hr") is not None)


def convert_table_fractions(tree: HTMLTree) -> int:
    """Tables that lay out one fraction (numerator row, bar, denominator row) → `(num)/(den)` text.

    Old math pages and some documentation generators draw a fraction as a one-column table: the
    numerator, a row holding `<hr>` (or a numerator cell with a bottom border), the denominator.
    Extracted as text, that is two lines and the division is gone. Innermost tables first, so a
    fraction inside a fraction is already text when its parent is read."""
    root = tree.body
    if root is None:
        return 0
    n = 0
    for el in reversed(root.query_selector_all("table")):
        if el.parent is None:
            continue
        rows = [r for r in el.query_selector_all("tr")]
        if len(rows) not in (2, 3) or any(len(r.query_selector_all("td, th")) != 1 for r in rows):
            continue
        cells = [r.query_selector("td, th") for r in rows]
        if len(rows) == 3 and _cell_is_rule(cells[1]):
            num, den = cells[0].text, cells[2].text
        elif len(rows) == 2 and "border-bottom" in ((cells[0].getattr("style") or "") + (rows[0].getattr("style") or "")).replace(" ", ""):
            num, den = cells[0].text, cells[1].text
        else:
            continue
        num, den = " ".join(num.split()), " ".join(den.split())
        if not num or not den:
            continue
        wrap = lambda x: x if re.fullmatch(r"[\w.]+", x) else f"({x})"  # noqa: E731 - one-token parts need no brackets
        el.parent.replace_child(tree.create_text_node(f" {wrap(num)}/{wrap(den)} "), el)
        n += 1
    return n


def mark_preformatted(tree: HTMLTree) -> None:
    """Put private-use marks around each `<pre>`'s text so `clean_lines` keeps its layout verbatim."""
    root = tree.body
    if root is None:
        return
    for el in root.query_selector_all("pre"):
        first = el.first_child
        if first is None:
            continue
        el.insert_before(tree.create_text_node(_PRE_OPEN), first)
        el.append_child(tree.create_text_node(_PRE_CLOSE))


def remove_link_dense(tree: HTMLTree, min_links: int = 3, max_link_share: float = 0.6) -> None:
    """Delete lists and tables whose text is mostly anchor text (menus, 'related' lists, tag rows).

    Only these leaf-ish blocks are tested: a wrapper `div` around a whole article with a long
    language-link list would fail the ratio and take the article with it (it did on Wikipedia).
    """
    root = tree.body
    if root is None:
        return
    for el in root.query_selector_all("ul, ol, dl, table"):
        if el.parent is None:
            continue
        # measured on the serialised subtree: one C call instead of a Python object per link
        markup = el.html
        if markup.count("<a ") < min_links:
            continue
        anchor = sum(len(_TAG_OR_SPACE.sub("", m)) for m in _ANCHOR.findall(markup))
        total = len("".join(el.text.split()))
        if total and anchor / total > max_link_share:
            el.parent.remove_child(el)


_BOILERPLATE_RE = re.compile("|".join(re.escape(p) for p in BOILERPLATE_PHRASES))


def _is_boilerplate_line(line: str) -> bool:
    if len(line) > 120 or "$" in line:  # long lines are content; never drop a formula
        return False
    low = line.lower()
    if low.lstrip("•*-· ").strip() in BOILERPLATE_LINES:
        return True
    return len(low.split()) <= _BOILERPLATE_MAX_WORDS and _BOILERPLATE_RE.search(low) is not None


def clean_lines(text: str) -> str:
    """Collapse spaces, drop chrome lines and heading marks; text between the `<pre>` marks is kept as it is
    (right-stripped lines only)."""
    out: list[str] = []
    in_pre = False
    for raw in text.split("\n"):
        if in_pre or _PRE_OPEN in raw:
            opening = _PRE_OPEN in raw
            closing = _PRE_CLOSE in raw
            if opening and not in_pre:
                head, _, raw = raw.partition(_PRE_OPEN)
                if head.strip():
                    out.append(_SPACES.sub(" ", head).strip())
            in_pre = not closing
            body, _, tail = raw.partition(_PRE_CLOSE)
            body = body.replace(_PRE_OPEN, "").rstrip()
            if body or not closing:
                out.append(body)
            if closing and tail.strip():
                out.append(_SPACES.sub(" ", tail).strip())
            continue
        ln = _SPACES.sub(" ", raw).strip().replace(_PRE_CLOSE, "")
        if ln and (_is_boilerplate_line(ln) or _NAV_LINE.match(ln)):
            continue
        out.append(_HEADING_MARK.sub("", ln))
    return _MULTI_BLANK.sub("\n\n", "\n".join(out)).strip()


def html_to_text(html: str, url: str | None = None, *, main_content: bool = False) -> str:
    """Visible main text of a page with every formula as LaTeX (`$…$` inline, `$$…$$` display).

    Paragraphs are separated by blank lines, `<br>` gives a single newline. `url` is accepted for
    site-specific rules (none yet) and error messages.

    `main_content=True` adds resiliparse's main-content heuristics. It is off by default: on real
    pages it drops list items (where many solutions keep their steps) and, on some news pages, most
    of the article (measured on trafilatura's test pages: 121 vs 7,132 characters on one of them).
    """
    if not html:
        return ""
    tree = HTMLTree.parse(html)
    if tree.body is None:
        return ""
    if any(marker in html for marker in _MATH_MARKERS):  # most pages have no math: skip the queries
        convert_math(tree)
    if "<table" in html and ("<hr" in html or "border-bottom" in html):
        convert_table_fractions(tree)
    remove_link_dense(tree)
    if "<pre" in html:
        mark_preformatted(tree)
    text = extract_plain_text(
        tree,
        preserve_formatting=True,
        main_content=main_content,
        list_bullets=True,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        skip_elements=SKIP_SELECTORS,
    )
    return clean_lines(text)
