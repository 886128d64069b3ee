"""Strict answer equivalence: cheap exact rules in-process, math-verify + sympy in a worker process.

Two layers, both pure functions of (prediction, gold):

1. `fast_equal` (in the caller's process, microseconds, bounded by construction — only regexes with no
   nested quantifiers and exact `Fraction` arithmetic on literal digits):
   normalisation (`normalize`: Unicode forms `√2` `−3` `½` `x²` `∞` `π`, `$`/`\\(`, `\\left`/`\\right`,
   spacing, `\\dfrac`, thousands separators (below), degrees, `\\$`, trailing units `5 \\text{ cm}` /
   `5 dollars`, `\\text{...}`),
   assignments `x = 5` vs `5`, choice letters `(B)` vs `B`, plain words (`\\text{Monday}`), and exact
   numbers: integers (any length, compared as digit strings), decimals, `a/b`, `\\frac{a}{b}`, mixed
   numbers `2\\frac{1}{2}` / `2 1/2`, repeating decimals `0.\\overline{3}`, scientific notation
   `1.5\\times10^{3}`, percent (`50\\%` equals `50` and `0.5`; `50` never equals `0.5`).
   It answers `None` when it cannot decide; then layer 2 runs.
2. `heavy_equal` (inside a `grade_worker` process, under a hard deadline): math-verify's parser and
   `verify` with its signal-based timeouts disabled, plus one correction: math-verify's numeric test
   rounds to 6 decimal places or chops tiny differences (`2^{-60}` equals `2^{-61}`, Math-Verify#14),
   so `sympy_numeric_eq` is wrapped to also require *relative* agreement (see `_really_close`).

Thousands separators, decided by context: the typographic spellings `,\\!` `{,}` `\\,` `\\ ` and
thin / narrow no-break / no-break / figure spaces (U+2009, U+202F, U+00A0, U+2007) are a separator
wherever they stand between a digit and a group of exactly three digits — nobody writes a list that way.
A plain `,` is one only when the whole answer is a lone number (`1,000`, `-2,500.5`, `3,000%`,
`2,500 \\text{ cm}`); in brackets or beside other elements it separates elements, so `(1,000)` stays
the tuple (1, 0) and `1,000, 2` a list; and when the question asks for a comma-separated list
(`grade.reconcile_forms`), even a lone `1,000` is the elements 1 and 000.

No absolute tolerance: two exact values must be equal; two decimal literals must be equal; a decimal
literal against an exact value must agree to the decimal's last written digit (|a-b| <= 1/2 ulp) and
carry at least 4 significant digits (`0.3333` ~ `1/3`, but not `0.33`).
Tuples are ordered, sets and bare comma lists unordered, intervals bracket-exact (math-verify rules).
"""

from __future__ import annotations

import re
from fractions import Fraction

# ----------------------------------------------------------------------------------------------------
# normalisation (cheap, string -> string)
# ----------------------------------------------------------------------------------------------------

_WRAPPERS = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
_SPACES = re.compile(r"(?<!\\)\\[,;:! ]|\\q?quad\b|~|\\(?:displaystyle|textstyle)\b")
_LEFT_RIGHT = re.compile(r"\\(?:left|right|big|Big|bigg|Bigg)(?![a-zA-Z])\.?")
_DEGREES = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree\b")
_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d])")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
# (a unit word is any word but a connective: "5 \\text{ or } 6" / "5 or six" must stay hedged answers)
_NOT_CONNECTIVE = r"(?!(?:or|and|either|nor|not|plus|minus|times|over)\b)"
_TRAILING_UNIT = re.compile(r"^(.*?[\d}])\s*\\(?:text|mbox|mathrm)\s*\{\s*" + _NOT_CONNECTIVE + r"[A-Za-z][A-Za-z .]*\}(?:\s*\^\s*\{?\d\}?)?$")
_TRAILING_WORDS = re.compile(r"^([-+]?[\d.]+(?:\s*/\s*\d+)?)\s+(?:" + _NOT_CONNECTIVE + r"[A-Za-z]{2,}\b\.?\s*)+(?:\^\s*\{?\d\}?)?$")
# clock times: "4:30 \\text{ p.m.}", "4:30pm", "04:30 PM" -> "4:30p"
_TIME_OF_DAY = re.compile(r"\b(\d{1,2}):(\d{2})\s*(?:\\(?:text|mbox|mathrm)\s*\{\s*)?(?:([apAP])\.?\s*[mM]?\.*\s*\}?\.*)?$")
_WHOLE_TEXT = re.compile(r"\\(?:text|textbf|textit|mbox|mathrm)\s*\{([^{}]*)\}")
_FRAC_SHORT = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_HALF = re.compile(r"\\frac\s*\{([^{}]*)\}\s*(\d)")
_FRAC_HALF2 = re.compile(r"\\frac\s*(\d)\s*\{")
_SQRT_SHORT = re.compile(r"\\sqrt\s*(\d+|[a-zA-Z])")


def _strip_wrappers(s: str) -> str:
    changed = True
    while changed:
        changed = False
        s = s.strip()
        for a, b in _WRAPPERS:
            inner = s[len(a) : len(s) - len(b)]
            # "$5$ and $6$" is two spans, not one: the delimiter must not occur inside
            if len(s) >= len(a) + len(b) and s.startswith(a) and s.endswith(b) and a not in inner:
                s, changed = inner, True
        for cmd in ("\\boxed", "\\fbox"):
            if s.startswith(cmd + "{") and s.endswith("}") and _balanced(s[len(cmd) + 1 : -1]):
                s, changed = s[len(cmd) + 1 : -1], True
    return s


def _balanced(s: str) -> bool:
    depth = 0
    for c in s:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            return False
    return depth == 0


# Thousands separators. Typographic spellings (`,\\!` `{,}` `\\,` `\\ ` thin / narrow / no-break
# spaces) are a separator wherever they stand between a digit and a group of exactly three digits: nobody
# writes a list that way. A plain `,` is a separator only in a lone number (`1,000`, `-2,500.5`, `3,000%`);
# anywhere else (`(1,000)`, `1,000, 2`, a question asking for a comma-separated list) it separates
# elements, so `(1,000)` stays the tuple (1, 0) — see `_looks_numeric_list_free` and `grade.compare`.
_TYPO_THOUSANDS = re.compile(r"(?<=\d)(?:,\s*\\!|\{,\}|\\,|\\ |\\thinspace\s*|[\u2009\u202f\u00a0\u2007])(?=\d{3}(?!\d))")
# Unicode forms models write: value-preserving rewrites into the LaTeX the parsers read.
_UNICODE = {"\u2212": "-", "\u2013": "-", "\u00d7": "\\times ", "\u22c5": "\\cdot ", "\u00b7": "\\cdot ",
            "\u00f7": "\\div ", "\u221e": "\\infty ", "\u03c0": "\\pi ", "\u2264": "\\le ", "\u2265": "\\ge ",
            "\u2260": "\\ne ", "\u222a": "\\cup ", "\u2229": "\\cap ", "\u2205": "\\emptyset ", "\u00b0": "^\\circ",
            "\u00b2": "^{2}", "\u00b3": "^{3}", "\u00b9": "^{1}", "\u2070": "^{0}"}
_VULGAR = {"\u00bd": (1, 2), "\u00bc": (1, 4), "\u00be": (3, 4), "\u2153": (1, 3), "\u2154": (2, 3), "\u2155": (1, 5),
           "\u2156": (2, 5), "\u2157": (3, 5), "\u2158": (4, 5), "\u2159": (1, 6), "\u215a": (5, 6), "\u215b": (1, 8),
           "\u215c": (3, 8), "\u215d": (5, 8), "\u215e": (7, 8)}
_UNICODE_ANY = re.compile("[" + "".join(_UNICODE) + "".join(_VULGAR) + "\u221a\u221b]")
_UNICODE_ROOT = re.compile(r"([\u221a\u221b])\s*(\d+(?:\.\d+)?|[A-Za-z]|\((?:[^()]|\([^()]*\))*\)|\{[^{}]*\})")


def unicode_to_latex(s: str) -> str:
    """`√2` -> `\\sqrt{2}`, `∛(x+1)` -> `\\sqrt[3]{x+1}`, `2½` -> `2\\frac{1}{2}`, `x²` -> `x^{2}`, `−3` -> `-3`, `∞`, `π`..."""
    if not _UNICODE_ANY.search(s):
        return s

    def root(m: re.Match) -> str:
        arg = m.group(2)
        if arg[0] in "({" and arg[-1] in ")}":
            arg = arg[1:-1]
        return ("\\sqrt{" if m.group(1) == "\u221a" else "\\sqrt[3]{") + arg + "}"

    s = _UNICODE_ROOT.sub(root, s)
    s = s.replace("\u221a", "\\sqrt").replace("\u221b", "\\sqrt[3]")
    for ch, (a, b) in _VULGAR.items():
        s = s.replace(ch, f"\\frac{{{a}}}{{{b}}}")
    for ch, latex in _UNICODE.items():
        s = s.replace(ch, latex)
    return s


def remove_thousands_separators(s: str) -> str:
    """Typographic thousands separators always; a plain `,` only in a lone number (module comment above)."""
    s = _TYPO_THOUSANDS.sub("", s)
    return _THOUSANDS.sub(lambda m: m.group(1).replace(",", ""), s) if _looks_numeric_list_free(s) else s


def normalize(s: str) -> str:
    """Presentation-only normalisation; never changes the mathematical value of an answer."""
    s = unicode_to_latex(str(s))
    s = _TYPO_THOUSANDS.sub("", s)  # before `\\!` / `\\,` become spaces below
    s = _strip_wrappers(s.strip().rstrip("."))
    s = s.replace("\n", " ").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cfrac", "\\frac")
    s = _LEFT_RIGHT.sub("", s)
    whole_text = _WHOLE_TEXT.fullmatch(s.strip())
    if whole_text:
        s = whole_text.group(1)
    s = _SPACES.sub(" ", s)
    s = s.replace("\\varnothing", "\\emptyset").replace("\\{\\}", "\\emptyset").replace("\\{ \\}", "\\emptyset")
    s = s.replace("{,}", ",").replace("\\%", "%").replace("\\$", "").replace("\\infin", "\\infty")
    s = _DEGREES.sub("", s)
    s = _TIME_OF_DAY.sub(lambda m: f"{int(m.group(1))}:{m.group(2)}" + (m.group(3) or "").lower(), s)
    if s.count("$") == 1:  # a dollar amount "$5", not a math span
        s = re.sub(r"^\s*\\?\$", "", s)
    s = remove_thousands_separators(s)
    m = _TRAILING_UNIT.match(s)
    if m and m.group(1).strip():
        s = m.group(1)
    s = s.strip().rstrip(".").strip()
    m = _TRAILING_WORDS.match(s)
    if m:
        s = m.group(1)
    s = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_HALF.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_HALF2.sub(r"\\frac{\1}{", s)
    s = _SQRT_SHORT.sub(r"\\sqrt{\1}", s)
    s = re.sub(r"\s+", " ", s).strip()
    return _collapse_parens(_strip_wrappers(s))


def _collapse_parens(s: str) -> str:
    """`((x))` -> `(x)`: redundant doubled parentheses (60 nested levels make LaTeX parsers crawl)."""
    if "((" not in s:
        return s
    match: dict[int, int] = {}
    stack: list[int] = []
    for i, c in enumerate(s):
        if c == "(":
            stack.append(i)
        elif c == ")" and stack:
            match[stack.pop()] = i
    drop: set[int] = set()
    for i, j in match.items():
        if s[i + 1 : i + 2] == "(" and match.get(i + 1) == j - 1:
            drop.update((i, j))
    return "".join(c for k, c in enumerate(s) if k not in drop) if drop else s


def _looks_numeric_list_free(s: str) -> bool:
    """Thousands separators only in a lone number (`1,000,000`), not inside `(1,000, 2)`-like tuples."""
    return bool(_LONE_NUMBER.fullmatch(s.strip()))


# a lone number with comma groups, maybe a sign, a percent sign or a trailing unit (`2,500 \\text{ cm}^2`)
_LONE_NUMBER = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\s*(?:%|\\text\s*\{[^{}]*\}(?:\^\{?\d\}?)?|[A-Za-z][A-Za-z. ]*)?")


# ----------------------------------------------------------------------------------------------------
# exact numbers
# ----------------------------------------------------------------------------------------------------

_DEC = r"(?:\d+(?:\.\d*)?|\.\d+)"
_RE_INT = re.compile(r"[+-]?\d+")
_RE_DEC = re.compile(rf"([+-]?){_DEC}")
_RE_SCI = re.compile(rf"([+-]?{_DEC})\s*(?:\\times|\\cdot|\*)\s*10\s*\^\s*\{{?\s*([+-]?\d{{1,4}})\s*\}}?")
_RE_E = re.compile(rf"([+-]?{_DEC})[eE]([+-]?\d{{1,4}})")
_RE_FRAC = re.compile(rf"([+-]?)\\frac\{{\s*([+-]?{_DEC})\s*\}}\{{\s*([+-]?{_DEC})\s*\}}")
_RE_SLASH = re.compile(rf"([+-]?{_DEC})\s*/\s*([+-]?{_DEC})")
_RE_MIXED = re.compile(r"([+-]?)(\d+)\s*\\frac\{\s*(\d+)\s*\}\{\s*(\d+)\s*\}")
_RE_MIXED_SLASH = re.compile(r"([+-]?)(\d+)\s+(\d+)\s*/\s*(\d+)")
_RE_REPEAT = re.compile(r"([+-]?)(\d*)\.(\d*)\s*\\(?:overline|bar)\s*\{\s*(\d+)\s*\}")
_MAX_DIGITS = 4000


class Num:
    """An exact value plus how it was written (decimal places, significant digits, percent sign)."""

    __slots__ = ("value", "decimals", "sig", "percent")

    def __init__(self, value: Fraction, decimals: int | None = None, sig: int = 0, percent: bool = False):
        self.value, self.decimals, self.sig, self.percent = value, decimals, sig, percent


def parse_number(s: str) -> Num | None:
    """An exact number from a normalised answer string, or None when it is not a plain number."""
    s = s.strip()
    percent = s.endswith("%")
    if percent:
        s = s[:-1].strip()
    if not s or len(s) > _MAX_DIGITS or not any(ch.isdigit() for ch in s):
        return None
    if s[0] == "(" and s[-1] == ")" and s.count("(") == 1:  # "(-3)" is just -3
        s = s[1:-1].strip()
    try:
        if _RE_INT.fullmatch(s):
            return Num(Fraction(int(s)), percent=percent)
        if _RE_DEC.fullmatch(s):
            body = s.lstrip("+-")
            decimals = len(body.split(".")[1]) if "." in body else None
            sig = len(body.replace(".", "").lstrip("0")) if decimals else 0
            return Num(Fraction(s), decimals or None, sig, percent)
        m = _RE_SCI.fullmatch(s) or _RE_E.fullmatch(s)
        if m:
            return Num(Fraction(m.group(1)) * Fraction(10) ** int(m.group(2)), percent=percent)
        m = _RE_FRAC.fullmatch(s)
        if m:
            v = Fraction(m.group(2)) / Fraction(m.group(3))
            return Num(-v if m.group(1) == "-" else v, percent=percent)
        m = _RE_SLASH.fullmatch(s)
        if m:
            return Num(Fraction(m.group(1)) / Fraction(m.group(2)), percent=percent)
        m = _RE_MIXED.fullmatch(s) or _RE_MIXED_SLASH.fullmatch(s)
        if m:
            v = int(m.group(2)) + Fraction(int(m.group(3)), int(m.group(4)))
            return Num(-v if m.group(1) == "-" else v, percent=percent)
        m = _RE_REPEAT.fullmatch(s)
        if m:
            sign, whole, fixed, rep = m.groups()
            v = Fraction(int(whole or "0")) + (Fraction(int(fixed), 10 ** len(fixed)) if fixed else 0)
            v += Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** len(fixed))
            return Num(-v if sign == "-" else v, percent=percent)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return None


def _rounded_match(exact: Fraction, dec: Num) -> bool:
    """A decimal literal written to d places matches an exact value it rounds from (>= 4 significant digits)."""
    if dec.decimals is None or dec.sig < 4:
        return False
    return abs(exact - dec.value) <= Fraction(1, 2 * 10**dec.decimals)


def numbers_equal(p: Num, g: Num) -> tuple[bool, str]:
    candidates = [(p.value, g.value, "equal numbers")]
    if p.percent != g.percent:  # 50% vs 0.5 (value) and 50% vs 50 (sign dropped)
        pct_p = p.value / 100 if p.percent else p.value
        pct_g = g.value / 100 if g.percent else g.value
        candidates.append((pct_p, pct_g, "equal as percent"))
    for a, b, why in candidates:
        if a == b:
            return True, why
    a, b = p.value, g.value
    if (p.decimals is None) != (g.decimals is None):  # exactly one side written as a decimal
        dec, exact = (p, g.value) if p.decimals is not None else (g, p.value)
        if _rounded_match(exact, dec):
            return True, f"decimal agrees to {dec.decimals} places"
    return False, "different numbers"


# ----------------------------------------------------------------------------------------------------
# fast in-process decision
# ----------------------------------------------------------------------------------------------------

_HEDGE = re.compile(r"\\(?:text|mbox|mathrm|textbf)\s*\{[^{}]*?\b(or|either|nor|more|less|least|most|than|not|between)\b[^{}]*\}")
_MULTI_CHOICE = re.compile(r"[A-E](?:[\s,、;和及]*[A-E])*")
_CHOICE = re.compile(r"\(?\s*([A-Ea-e])\s*\)?")
_PRED_CHOICE = re.compile(r"^\(?\s*([A-E])\s*(?:\)|\.|:|$|\s)")
ASSIGN_LHS = re.compile(r"^\s*(?:[A-Za-z](?:_\{?\w+\}?)?|\\[a-zA-Z]+(?:_\{?\w+\}?)?)\s*=\s*(?!=)")
_WORDS_ONLY = re.compile(r"[A-Za-z][A-Za-z'\- ]*")
_COMMON_WORDS = {"odd", "even", "yes", "no", "none", "neither", "both", "true", "false", "all", "never"}
CHOICE_BENCHES = {"sat", "mmlu_stem", "gaokao_mathqa", "aqua", "sat_math", "mmlu"}


def _unwrap_text(s: str) -> tuple[str, bool]:
    """Replace \\text{..}-like commands by their content; report whether the whole answer was text."""
    whole = bool(re.fullmatch(r"\\(?:text|textbf|textit|mathrm|mbox)\s*\{[^{}]*\}", s.strip()))
    return _TEXT_CMD.sub(lambda m: m.group(1), s).strip(), whole


def _drop_assignment(s: str) -> str:
    m = ASSIGN_LHS.match(s)
    return s[m.end() :] if m and "=" not in s[m.end() :] else s


def _word_key(s: str) -> str:
    s = re.sub(r"[^a-z0-9 ]", " ", s.lower())
    return " ".join(w for w in s.split() if w not in {"the", "a", "an"})


def fast_equal(pred: str, gold: str, bench: str | None = None) -> tuple[str, str] | None:
    """(verdict, reason) when cheap exact rules decide, else None (go to `heavy_equal`)."""
    p, g = normalize(pred), normalize(gold)
    if not g:
        return "unverifiable", "empty gold answer"
    if not p:
        return "incorrect", "empty prediction"
    if p == g:
        return "correct", "identical after normalisation"
    # hedges hidden in text ("5 \\text{ or more}"): math-verify drops \\text{...} as if it were a unit
    hedge = _HEDGE.search(p)
    if hedge and not _HEDGE.search(g):
        return "incorrect", f"hedged answer ({hedge.group(1)!r})"
    # clock times
    tp, tg = re.fullmatch(r"(\d{1,2}:\d{2})([ap]?)", p), re.fullmatch(r"(\d{1,2}:\d{2})([ap]?)", g)
    if tp and tg:
        same = tp.group(1) == tg.group(1) and (tp.group(2) == tg.group(2) or not (tp.group(2) and tg.group(2)))
        return ("correct", "same time of day") if same else ("incorrect", "different time of day")
    # multi-select choice answers (Gaokao-MathQA "AD"): compare the sets of letters
    if bench in CHOICE_BENCHES and _MULTI_CHOICE.fullmatch(g) and len(set(re.findall(r"[A-E]", g))) > 1:
        letters_p, letters_g = set(re.findall(r"[A-E]", p.upper())), set(re.findall(r"[A-E]", g))
        ok = letters_p == letters_g
        return ("correct", "same set of choice letters") if ok else ("incorrect", "different set of choice letters")
    # choice letters
    if (bench in CHOICE_BENCHES) or re.fullmatch(r"\(?[A-E]\)?", g):
        mg = _CHOICE.fullmatch(g)
        if mg:
            mp = _PRED_CHOICE.match(p) or _PRED_CHOICE.match(p.upper()) if bench in CHOICE_BENCHES else _PRED_CHOICE.match(p)
            if mp:
                ok = mp.group(1).upper() == mg.group(1).upper()
                return ("correct", "same choice letter") if ok else ("incorrect", "different choice letter")
            if bench in CHOICE_BENCHES:
                return "incorrect", "no choice letter in prediction"
    # plain words
    gt, g_whole_text = _unwrap_text(g)
    g_whole_text = g_whole_text or bool(_WHOLE_TEXT.fullmatch(_strip_wrappers(str(gold))))
    pt, _ = _unwrap_text(p)
    if _WORDS_ONLY.fullmatch(gt) and (g_whole_text or " " in gt.strip() or len(gt) >= 4 or gt.lower() in _COMMON_WORDS):
        if _word_key(pt) == _word_key(gt):
            return "correct", "same words"
        if _WORDS_ONLY.fullmatch(pt) or parse_number(pt) is not None:
            return "incorrect", "different words"
    # assignments: `x = 5` vs `5`
    if ("=" in p) != ("=" in g):
        p, g = _drop_assignment(p), _drop_assignment(g)
        if p == g:
            return "correct", "identical after dropping the assignment"
    # exact numbers
    pn, gn = parse_number(p), parse_number(g)
    if pn is not None and gn is not None:
        ok, why = numbers_equal(pn, gn)
        return ("correct" if ok else "incorrect"), why
    if gn is not None and pn is None and re.fullmatch(r"[-+]?[\d.,]+\s*%?|[A-Za-z]{2,}(?: [A-Za-z]+)*", p):
        return "incorrect", "prediction is not a number"
    return None


# ----------------------------------------------------------------------------------------------------
# heavy path (runs inside a grade_worker process; may be slow; the caller enforces the deadline)
# ----------------------------------------------------------------------------------------------------

_MV = None  # lazily imported math-verify pieces


def warm_up() -> None:
    """`load`, then run a few comparisons so the sympy paths it imports lazily are hot (workers)."""
    if _MV is not None:
        return
    load()
    # touch the code paths sympy imports lazily (each costs 0.1-0.4 s on its first use), so the
    # first real item of each kind is not the one that pays for it
    for pred, gold in _WARM_UP_PAIRS:
        heavy_equal(pred, gold)


_PRIMED = False


def prime() -> None:
    """`load`, then one LaTeX parse: builds the ANTLR parser of latex2sympy (its serialized grammar is
    read on first use) — the one-time set-up an in-process check does before its clock starts."""
    global _PRIMED
    if not _PRIMED:
        load()
        _mv_parse("\\frac{1}{2}")
        _PRIMED = True


def load() -> None:
    """Import math-verify and patch its numeric comparison (once)."""
    global _MV
    if _MV is not None:
        return
    import logging

    import math_verify.grader as mv_grader
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    logging.getLogger("latex2sympy2_extended").setLevel(logging.CRITICAL)
    original = mv_grader.sympy_numeric_eq

    def numeric_eq_with_relative_check(a, b, float_rounding, numeric_precision):
        return original(a, b, float_rounding, numeric_precision) and _really_close(a, b)

    mv_grader.sympy_numeric_eq = numeric_eq_with_relative_check
    configs = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]
    _MV = (parse, verify, configs)


_WARM_UP_PAIRS = [
    ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt 3}{2}"), ("(3,\\pi/2)", "(3, \\frac{\\pi}{2})"), ("x^2+2x+1", "(x+1)^2"),
    ("2^{-60}", "2^{-61}"), ("[1,2)", "[1,2]"),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{pmatrix}1\\\\3\\end{pmatrix}"), ("y=2x+1", "y=1+2x"),
    ("\\{1,2\\}", "\\{2,1\\}"), ("3+4i", "4i+3"),
]


# digits of the decimal literals on each side of the current comparison (set by heavy_equal)
_DECIMALS: dict[str, tuple[int, int] | None] = {"gold": None, "pred": None}
_DEC_LIT = re.compile(r"(?<![\d.])(\d*)\.(\d+)")


def _decimal_info(s: str) -> tuple[int, int] | None:
    """(most decimal places, fewest significant digits) over the decimal literals of `s`, or None."""
    lits = _DEC_LIT.findall(s)
    if not lits:
        return None
    return max(len(f) for _, f in lits), min(len((w + f).lstrip("0")) for w, f in lits)


def _really_close(a, b) -> bool:
    """Guard on top of math-verify's rounding: equal to ~1e-12 relative, or to a decimal's stated precision."""
    import sympy

    try:
        if isinstance(a, sympy.MatrixBase) and isinstance(b, sympy.MatrixBase):
            return a.shape == b.shape and all(_really_close(x, y) for x, y in zip(a, b))
        a = a.doit() if hasattr(a, "doit") else a
        b = b.doit() if hasattr(b, "doit") else b
        free = getattr(a, "free_symbols", set()) | getattr(b, "free_symbols", set())
        if free:  # compare at two generic points instead of trusting a chopped evalf
            for k, vals in enumerate(([Fraction(3, 7), Fraction(5, 11)], [Fraction(-13, 17), Fraction(7, 3)])):
                subs = {x: sympy.Rational(vals[i % 2].numerator + i, vals[i % 2].denominator) for i, x in enumerate(sorted(free, key=str))}
                if not _close_numbers(sympy.N(a.subs(subs), 30), sympy.N(b.subs(subs), 30), tol_places=None):
                    return False
            return True
        va, vb = sympy.N(a, 30), sympy.N(b, 30)
        dg, dp = _DECIMALS["gold"], _DECIMALS["pred"]
        if (dg is None) != (dp is None):  # one side written with decimals: its own precision decides
            places, sig = dg if dg is not None else dp
            return sig >= 4 and _close_numbers(va, vb, tol_places=places) or _close_numbers(va, vb, tol_places=None)
        return _close_numbers(va, vb, tol_places=None)
    except Exception:
        return True  # cannot evaluate numerically: keep math-verify's (symbolic) judgement


def _close_numbers(va, vb, tol_places: int | None) -> bool:
    import sympy

    if not (getattr(va, "is_number", False) and getattr(vb, "is_number", False)):
        return True
    diff = abs(sympy.N(va - vb, 30))
    if diff == 0:
        return True
    if tol_places is not None:
        return bool(diff <= sympy.Rational(1, 2 * 10**tol_places) * (1 + sympy.Rational(1, 10**9)))
    scale = max(abs(va), abs(vb))
    return bool(diff <= scale * sympy.Rational(1, 10**12))


def _mv_parse(s: str):
    parse, _, configs = _MV
    text = s if "$" in s else f"${s}$"
    out = parse(text, extraction_config=configs, parsing_timeout=None)
    if not any(not isinstance(x, str) for x in out):
        out2 = parse(s, extraction_config=configs, parsing_timeout=None)
        if any(not isinstance(x, str) for x in out2):
            out = out2
    return out


_BARE_I = re.compile(r"(?<![a-zA-Z\\])i(?![a-zA-Z])")


def _imaginary_unit(parsed: list, text: str) -> list:
    """math-verify only reads `i` as the imaginary unit when it sees `\\bi\\b` (so not in `0.5i`):
    make a free symbol `i` the imaginary unit whenever the text writes a bare `i`."""
    if not _BARE_I.search(text):
        return parsed
    import sympy

    out = []
    for x in parsed:
        syms = [s for s in getattr(x, "free_symbols", ()) if getattr(s, "name", "") == "i"]
        out.append(x.subs({s: sympy.I for s in syms}) if syms else x)
    return out


def heavy_equal(pred: str, gold: str) -> tuple[str, str]:
    """math-verify parse + verify (timeouts off; the worker pool enforces the deadline)."""
    if _MV is None:
        load()
    _, verify, _ = _MV
    p, g = normalize(pred), normalize(gold)
    gp = _mv_parse(g)
    if not any(not isinstance(x, str) for x in gp):
        return "unverifiable", "gold answer does not parse"
    pp = _mv_parse(p)
    if not pp:
        return "unverifiable", "prediction does not parse"
    gp, pp = _imaginary_unit(gp, g), _imaginary_unit(pp, p)
    _DECIMALS["gold"], _DECIMALS["pred"] = _decimal_info(g), _decimal_info(p)
    if verify(gp, pp, timeout_seconds=None):
        return "correct", "equivalent (math-verify + exact check)"
    if not any(not isinstance(x, str) for x in pp):
        return "unverifiable", "prediction does not parse"
    return "incorrect", "not equivalent"


# ----------------------------------------------------------------------------------------------------
# question-aware form checks (strict mode, only when the question is given)
# ----------------------------------------------------------------------------------------------------

_ASKS_FRACTION = re.compile(r"common fraction|as a fraction|fraction in (?:simplest|lowest) (?:form|terms)", re.I)
_ASKS_RADICAL = re.compile(r"simplest radical form", re.I)
_SQRT_INT = re.compile(r"\\sqrt\s*\{\s*(\d+)\s*\}")
_DECIMAL_LITERAL = re.compile(r"(?<![\d.])\d*\.\d+")


def form_violation(pred: str, question: str | None) -> str | None:
    """The format the question demands and the (otherwise equal) prediction breaks, or None.

    "Express your answer as a common fraction" rejects `0.75`; "in simplest radical form" rejects
    `\\sqrt{8}` (a square factor left under the root). Other demands are not enforced."""
    if not question:
        return None
    p = normalize(pred)
    if _ASKS_FRACTION.search(question) and _DECIMAL_LITERAL.search(p):
        return "question asks for a fraction, prediction is a decimal"
    if _ASKS_RADICAL.search(question):
        for n in map(int, _SQRT_INT.findall(p)):
            if n < 10**12 and any(n % (k * k) == 0 for k in range(2, int(n**0.5) + 1)):
                return f"question asks for simplest radical form, \\sqrt{{{n}}} is not simplified"
    return None
