"""HTML → text keeps mathematics as LaTeX and drops page chrome."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seekmath.corpus.extract import clean_tex, html_to_text

TRAF = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "web" / "trafilatura" / "cache"


def page(body: str) -> str:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body><article>{body}</article></body></html>"


def test_mathjax_inline_and_display_scripts():
    html = page('<p>Solve <span class="MathJax_Preview">x²=4</span><script type="math/tex">x^2 = 4</script> for '
                '<script type="math/tex">x</script>.</p>'
                '<script type="math/tex; mode=display">x = \\pm 2 \\quad\\text{and}\\quad a &lt; b</script>'
                '<p>Done.</p>')
    text = html_to_text(html)
    assert "Solve $x^2 = 4$ for $x$." in text
    assert "$$x = \\pm 2 \\quad\\text{and}\\quad a < b$$" in text
    assert "x²=4" not in text  # the preview (a rendered duplicate) is gone
    lines = text.split("\n")
    assert any(ln.strip() == "$$x = \\pm 2 \\quad\\text{and}\\quad a < b$$" for ln in lines)  # display on its own line


def test_katex_annotation_replaces_rendered_copy():
    k = ('<span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>a</mi></mrow>'
         '<annotation encoding="application/x-tex">\\frac{a}{b}</annotation></semantics></math></span>'
         '<span class="katex-html" aria-hidden="true"><span class="mord">ab</span><span class="mfrac">RENDERED</span></span></span>')
    html = page(f'<p>We get {k} here.</p><span class="katex-display">{k.replace("frac{a}{b}", "sum_{i=1}^n i")}</span>')
    text = html_to_text(html)
    assert "We get $\\frac{a}{b}$ here." in text
    assert "$$\\sum_{i=1}^n i$$" in text
    assert "RENDERED" not in text and "ab here" not in text


def test_mathml_alttext_annotation_and_display():
    html = page('<p>Area <math alttext="\\pi r^2"><mi>π</mi><msup><mi>r</mi><mn>2</mn></msup></math> of a disc.</p>'
                '<math display="block"><semantics><mrow><mi>E</mi></mrow>'
                '<annotation encoding="application/x-tex">E = mc^2</annotation></semantics></math>'
                '<p>Plain <math><mi>x</mi><mo>+</mo><mn>1</mn></math> too.</p>')
    text = html_to_text(html)
    assert "Area $\\pi r^2$ of a disc." in text
    assert "$$E = mc^2$$" in text
    assert "Plain $x+1$ too." in text  # no TeX at all: MathML text content


def test_inline_tex_in_text_and_formula_images_kept():
    html = page('<p>Since $a^2 + b^2 = c^2$ and \\(c = 5\\), we have '
                '<img class="latex" src="https://s0.wp.com/latex.php?latex=b%3D4" alt="b=4">.</p>'
                '<p>A photo <img src="cat.jpg" alt="my cat"> stays out.</p>')
    text = html_to_text(html)
    assert "Since $a^2 + b^2 = c^2$ and \\(c = 5\\), we have $b=4$." in text
    assert "my cat" not in text


def test_wikipedia_displaystyle_unwrapped():
    assert clean_tex("{\\displaystyle p_{j\\mid i}}") == "p_{j\\mid i}"
    assert clean_tex("{\\displaystyle a}+{b}") == "{\\displaystyle a}+{b}"  # braces do not enclose it all
    assert clean_tex("  x  ") == "x"


def test_boilerplate_removed_content_kept():
    nav = "".join(f'<li><a href="/{i}">Section {i}</a></li>' for i in range(8))
    related = "".join(f'<li><a href="/r{i}">Related story number {i}</a></li>' for i in range(5))
    html = ("<html><body><header class='site-header'><a href='/'>Logo</a><nav><ul>" + nav + "</ul></nav></header>"
            "<div class='cookie-banner'>We use cookies. <a href='/p'>Privacy policy</a></div>"
            "<main><article><h1>Real title</h1><p>The first real paragraph has enough words to be content, "
            "and it mentions <a href='/x'>one link</a> in passing.</p>"
            "<ul><li>An ingredient list item</li><li>Another ingredient item</li></ul>"
            "<ul class='plain'>" + related + "</ul></article></main>"
            "<aside class='sidebar'><h3>Popular</h3><p>Sidebar text</p></aside>"
            "<footer><p>© 2024 Example. All rights reserved.</p></footer></body></html>")
    text = html_to_text(html)
    assert "Real title" in text and "The first real paragraph has enough words" in text and "one link" in text
    assert "An ingredient list item" in text
    for junk in ("Section 3", "cookies", "Related story", "Sidebar text", "All rights reserved", "Privacy policy"):
        assert junk not in text, junk


def test_empty_and_broken_html_do_not_crash():
    assert html_to_text("") == ""
    assert html_to_text("<html><body><script>var a = 1;</script></body></html>") == ""
    assert "unclosed" in html_to_text("<html><body><p>unclosed <b>bold <div>and more")
    assert html_to_text("<p>\x00 null byte text</p>").strip().endswith("null byte text")


def test_real_wikipedia_tsne_keeps_formulas_as_latex():
    f = TRAF / "en.wikipedia.org.tsne.html"
    if not f.is_file():
        pytest.skip("shared trafilatura pages missing")
    text = html_to_text(f.read_text(encoding="utf-8"), "https://en.wikipedia.org/wiki/T-distributed_stochastic_neighbor_embedding")
    assert "T-distributed Stochastic Neighbor Embedding (t-SNE) is a machine learning algorithm" in text
    # specific formulas of the article, as LaTeX, with the {\displaystyle} wrapper removed
    for tex in ("$N$", "$\\mathbf {x} _{1},\\dots ,\\mathbf {x} _{N}$", "$p_{ij}$",
                "$p_{j\\mid i}={\\frac {\\exp(-\\lVert \\mathbf {x} _{i}-\\mathbf {x} _{j}\\rVert ^{2}/2\\sigma _{i}^{2})}"
                "{\\sum _{k\\neq i}\\exp(-\\lVert \\mathbf {x} _{i}-\\mathbf {x} _{k}\\rVert ^{2}/2\\sigma _{i}^{2})}},$"):
        assert tex in text, tex
    assert "$q_{ij}$" in text and "$KL(P||Q)=\\sum _{i\\neq j}p_{ij}\\log {\\frac {p_{ij}}{q_{ij}}}$" in text
    assert "displaystyle" not in text
    formulas = re.findall(r"\$[^$]+\$", text)
    assert len(formulas) >= 30  # the page has 34 math elements
    assert "Jump to navigation" not in text and "Retrieved from" not in text


def test_real_non_math_pages_extract_text_without_dollar_noise():
    if not TRAF.is_dir():
        pytest.skip("shared trafilatura pages missing")
    for name in ("nature.com.telescope.html", "blog.python.org.html", "heise.de.lithium.html"):
        f = TRAF / name
        if not f.is_file():
            continue
        text = html_to_text(f.read_text(encoding="utf-8", errors="replace"))
        assert len(text.split()) > 150, name
        assert "$$" not in text, name


def test_documentation_pages_keep_link_text_and_drop_generator_chrome():
    # Sphinx/docutils: every cross-reference is <a class="reference internal">; its text is prose
    html = page('<h1>Integrals<a class="headerlink" href="#integrals" title="Permalink">¶</a></h1>'
                '<p>Use <a class="reference internal" href="#solve"><code class="xref">solve()</code></a> to solve '
                'and <a class="reference external" href="https://x.org">the manual</a> for more.</p>'
                '<h2>Comparison<a class="headerlink" href="#c">#</a></h2><p>Body.</p>'
                '<p>A claim<sup class="reference"><a href="#cite-1">[1]</a></sup>.</p>')
    text = html_to_text(html)
    assert "Use solve() to solve and the manual for more." in text
    assert "Integrals\n" in text and "¶" not in text and "Comparison#" not in text and "Comparison\n" in text
    assert "A claim." in text and "[1]" not in text  # Wikipedia-style citation markers still go
    # texinfo header bar and GAP chapter bars
    tex = ('<html><body><div class="header"><p>Next: <a href="b.html">Broadcasting</a>, Previous: <a href="a.html">A</a>, '
           'Up: <a href="u.html">Vectorization</a> &nbsp; [<a href="index.html">Contents</a>][<a href="i.html">Index</a>]</p></div>'
           '<hr><h3>19.1 Basic Vectorization</h3><p>Vectorize loops.</p>'
           '<div class="chlinktop"><span class="chlink1">Goto Chapter: </span><a href="chap0.html">Top</a> <a href="chap1.html">1</a> '
           '<a href="chap2.html">2</a></div><p>Next: <a href="x.html">X</a>, Up: <a href="y.html">Y</a></p></body></html>')
    text = html_to_text(tex)
    assert text == "19.1 Basic Vectorization\n\nVectorize loops."


def test_sphinx_display_math_pre_layout_and_table_fractions():
    html = page('<p>The transform</p><div class="math"><p><img src="_images/math/3f12.png" alt="F(s) = \\int_0^\\infty f(t)\\,e^{-st}\\,dt"/></p></div>'
                '<p>with <img class="math" src="_images/math/5a9.png" alt="s &gt; 0"/>; MathJax: </p>'
                '<div class="math notranslate nohighlight">\\[|c_1 x_1| &lt; \\mathrm{tol}\\]</div>'
                '<pre class="example"> /   \\\n | n |    n!\n | k | = ----------\n \\   /   k! (n-k)!\n</pre>'
                '<pre>def f(x):\n    return x</pre>'
                '<p>ratio <table><tr><td>a + b</td></tr><tr><td><hr></td></tr><tr><td>2</td></tr></table> and '
                '<table><tr><td style="border-bottom: 1px solid">x</td></tr><tr><td>y</td></tr></table>.</p>'
                '<table><tr><td>name</td></tr><tr><td><hr></td></tr></table>')
    text = html_to_text(html)
    assert "$$F(s) = \\int_0^\\infty f(t)\\,e^{-st}\\,dt$$" in text.split("\n")
    numbered = html_to_text(page('<div class="math" id="eq-1"><p><span class="eqno">(3)<a class="headerlink" href="#eq-1">\uf0c1</a>'
                                 '</span><img src="_images/math/c9.png" alt="PAP^T = LL^T"/></p></div>'))
    assert numbered == "$$PAP^T = LL^T$$ (3)"
    assert "with $s > 0$" in text
    assert "\\[|c_1 x_1| < \\mathrm{tol}\\]" in text
    assert " /   \\\n | n |    n!\n | k | = ----------\n \\   /   k! (n-k)!" in text  # 2-D layout kept
    assert "def f(x):\n    return x" in text  # indentation kept
    assert "(a + b)/2" in text and "x/y" in text
    assert "name" in text  # a two-row table without a fraction bar is left alone
