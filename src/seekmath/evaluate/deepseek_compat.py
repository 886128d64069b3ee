"""`mode="deepseek"`: DeepSeek-Math's own extraction, normalisation and equivalence, rule by rule, quirks
included, for parity with the paper's numbers (spec §5.3-§5.5; repo `evaluation/data_processing/
answer_extraction.py`, `evaluation/eval/eval_utils.py`, `eval_script.py`). Re-implemented from the
spec, not copied.

Quirks kept on purpose (they move reported accuracies):
- numbers are equal within an ABSOLUTE 1e-3, and the gold x100 / /100 also count (percent leniency):
  `50` equals `0.5` here, unlike strict mode;
- tuples and intervals are compared element-wise WITHOUT comparing bracket types;
- GSM8K few-shot takes the last number with a regex that does not strip commas ("1,000" -> "000");
- `strip_string` rewrites `j` to `i` when there is no `i`, bare `inf` to `\\infty`, `a/b` to `\\frac`;
- MATH predictions keep only the last len(gold) distinct boxed answers.

Parsing is DeepSeek's: sympy's own ANTLR `parse_latex` (the same grammar and conversion code as the
sympy 1.12 it pinned; quirks such as `2\\frac{1}{2}` = 2/2 = 1, `10{,}000` = 10 and `1,2` = 1 come
with it), then `parse_expr` for what LaTeX parsing rejects, then the plain string. Checked item by item
against DeepSeek-Math's code in a venv with its pinned versions (`make test-deepseek`,
tests/evaluate/test_grade_deepseek_parity.py).

Deliberate deviations (safety), documented:
- `parse_expr` `eval`s the code it makes from model text; here sympy's tokenizer transformations make
  the same code, which `_interpret` evaluates node by node over a whitelist (numbers, sympy constants
  and classes, arithmetic, comparisons, tuples, a few pure functions). Text needing anything else
  (attributes, `S("...")`, builtins) stays a string — where the original would have run it.
- OCW uses a number/equation/expression split like the original, but numbers are read with our
  exact parser instead of Python `eval`, and expressions are compared with sympy instead of the
  original's (unreachable) branch — i.e. normalised-string equality then symbolic equality.
- The original's per-item 15 s process-pool limit becomes our hard per-item deadline, and a candidate
  answer is cut to 2,000 characters before `strip_string` (whose regexes are quadratic on long lines).
"""

from __future__ import annotations

import re
from math import isclose

# ----------------------------------------------------------------------------------------------------
# §5.4 strip_string
# ----------------------------------------------------------------------------------------------------


def _fix_fracs(s: str) -> str:
    """`\\frac12` -> `\\frac{1}{2}`, `\\frac1{72}` -> `\\frac{1}{72}` (not `\\frac{72}1`)."""
    parts = s.split("\\frac")
    out = parts[0]
    for part in parts[1:]:
        out += "\\frac"
        if part[:1] == "{":
            out += part
            continue
        if len(part) < 2:
            return s
        a, b, rest = part[0], part[1], part[2:]
        out += "{" + a + "}{" + b + "}" + rest if b != "{" else "{" + a + "}" + b + rest
    return out


def _fix_a_slash_b(s: str) -> str:
    pieces = s.split("/")
    if len(pieces) != 2:
        return s
    a, b = pieces
    try:
        a2 = a if "sqrt" in a else str(int(a))
        b2 = b if "sqrt" in b else str(int(b))
    except ValueError:
        return s
    if s != f"{a2}/{b2}":
        return s
    return "\\frac{" + a2 + "}{" + b2 + "}"


def _fix_sqrt(s: str) -> str:
    s = re.sub(r"\\sqrt(-?[0-9.a-zA-Z]+)", r"\\sqrt{\1}", s)
    return re.sub(r"\\sqrt\s+(\w+)$", r"\\sqrt{\1}", s)


def _fix_tan(s: str) -> str:
    s = re.sub(r"\\tan(-?[0-9.a-zA-Z]+)", r"\\tan{\1}", s)
    return re.sub(r"\\tan\s+(\w+)$", r"\\tan{\1}", s)


def strip_string(string) -> str:
    """DeepSeek-Math's normalisation, step by step in the original order (spec §5.4)."""
    s = str(string).strip()
    s = s.replace("\n", "")
    s = s.rstrip(".")
    s = s.replace("\\!", "")
    if s.startswith("\\text{") and s.endswith("}"):
        s = s.split("{", 1)[1][:-1]
    s = s.replace("tfrac", "frac").replace("dfrac", "frac").replace("cfrac", "frac")
    s = s.replace("\\left", "").replace("\\right", "")
    no_unit = re.sub(r"\\text{.*?}$", "", s).strip()  # drop a trailing unit if something remains
    if no_unit != "" and no_unit != s:
        s = no_unit
    s = s.replace("^{\\circ}", "").strip()
    s = s.replace("^\\circ", "").strip()
    s = re.sub(r"\{(c|m)?m\}(\^(2|3))?", "", s).strip()
    s = re.sub(r"p\.m\.$", "", s).strip()
    s = re.sub(r"(\d)\s*t$", r"\1", s).strip()
    s = s.replace("\\$", "").replace("$", "")
    s = s.replace("x\\in", "")
    s = s.replace("\\%", "%")
    s = s.replace(" .", " 0.").replace("{.", "{0.")
    s = s.replace("\\cdot", "")
    s = s.replace("infinity", "\\infty")
    if "\\infty" not in s:
        s = s.replace("inf", "\\infty")
    s = s.replace("+\\inity", "\\infty")
    s = s.replace("\\mathbf", "").replace("\\mathrm", "")
    s = re.sub(r"\\mbox{.*?}", "", s)
    # (the original's quote-removal lines discard their result: no-ops, so nothing here)
    if "j" in s and "i" not in s:
        s = s.replace("j", "i")
    s = re.sub(r"(\d+)\.0+([^\d])", r"\1\2", s)
    s = re.sub(r"(\d+)\.0+$", r"\1", s)
    if not s:
        return s
    if s[0] == ".":
        s = "0" + s
    s = _fix_sqrt(s)
    s = _fix_tan(s)
    s = s.replace(" ", "")
    s = _fix_fracs(s)
    s = _fix_a_slash_b(s)
    s = re.sub(r"(\\|,|\.)+$", "", s)
    return s


# A candidate answer is cut to this length before strip_string: several of its regexes are quadratic
# (`(\d+)\.0+([^\d])` on a 100k-digit line took 146 s); the original relied on its 15 s pool timeout.
MAX_CANDIDATE_CHARS = 2000

# ----------------------------------------------------------------------------------------------------
# §5.3 extraction
# ----------------------------------------------------------------------------------------------------


def extract_boxed_answers(text: str) -> list[str]:
    """Every `boxed{...}` (brace-counting from the text after "boxed{"; keeps a `%` right after)."""
    answers = []
    for piece in text.split("boxed{")[1:]:
        depth = 0
        for i, ch in enumerate(piece):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth < 0:
                    answers.append(piece[: i + 1] if piece[i + 1 : i + 2] == "%" else piece[:i])
                    break
    return answers


def extract_program_output(text: str) -> str:
    if "```output" not in text:
        return ""
    text = text.split("```output")[-1]
    return text.split("```")[0].strip()


def extract_answer(text: str, exhaust: bool = False):
    preds: list[str] = []
    if "final answer is $" in text and "$. I hope" in text:
        preds = [text.split("final answer is $", 1)[1].split("$. I hope", 1)[0].strip()]
    elif "boxed" in text:
        preds = extract_boxed_answers(text)
    elif "he answer is" in text:
        preds = [text.split("he answer is")[-1].strip()]
    else:
        out = extract_program_output(text)
        if out != "":
            preds.append(out)
        else:
            nums = re.findall(r"-?\d*\.?\d+", text.replace(",", ""))
            if nums:
                preds.append(nums[-1])
    cleaned = []
    for ans in preds:
        ans = ans.strip().split("\n")[0][:MAX_CANDIDATE_CHARS].lstrip(":").rstrip(".").rstrip("/")
        cleaned.append(strip_string(ans))
    if exhaust:
        return cleaned
    return cleaned[-1] if cleaned else ""


def extract_math_answer(question: str | None, text: str) -> list[str]:
    out: list[str] = []
    for ans in extract_answer(text, exhaust=True):
        if question and "separated by commas" in question and all(ch not in ans for ch in "()[]"):
            out.extend(a.strip() for a in ans.split(","))
        elif re.search(r"\\text\{\s*and\s*\}", ans):
            out.extend(a.strip() for a in re.sub(r"\\text\{\s*and\s*\}", "[SEP]", ans).split("[SEP]"))
        else:
            out.append(ans.strip())
    return out


def _cut(text: str, marker: str) -> str:
    return text.split(marker, 1)[0] if marker in text else text


def extract_gsm_few_shot(text: str) -> str:
    text = _cut(text, "Q: ")
    nums = re.findall(r"-?\d+\.?\d*", text)  # no comma removal: "1,000" -> "000" (quirk kept)
    return nums[-1] if nums else "[invalid]"


def extract_sat(text: str) -> str:
    text = _cut(text, "Problem:")
    m = re.search(r"the final answer is \(?(?P<ans>[abcd])\)?", text.lower())
    return m.group("ans").upper() if m else "placeholder"


def extract_ocw(text: str) -> str:
    text = _cut(text, "Problem:")
    m = re.search(r"final answer is (?P<ans>.*)\. I hope it is correct.", text)
    return m.group("ans") if m else "[invalid]"


def extract_cmath(text: str, question: str | None = None) -> str:
    text = _cut(text, "问题：")
    if "答案是" in text:
        ans = text.split("答案是", 1)[1].strip().split("\n")[0].strip("：").strip("。")
        nums = re.findall(r"-?\d+\.?\d*", ans)
        return nums[-1] if nums else "[invalid]"
    return extract_answer(text)


def extract_gaokao_cloze(text: str) -> list[str]:
    text = _cut(text, "问题 ")
    if "答案是" in text:
        return [text.split("答案是", 1)[1].strip().split("\n")[0].strip().strip("$")]
    return ["placeholder"]


def extract_gaokao_qa(text: str) -> str:
    text = _cut(text, "问题 ")
    if "答案是" in text:
        return text.split("答案是", 1)[1].strip().split("\n")[0].strip()
    return "placeholder"


_MATH_BENCHES = {"math", "math500", "minerva_math", "aime24", "amc23", "olympiadbench", "college_math"}


def extract_prediction(response: str, bench: str | None = None, question: str | None = None):
    """The prediction exactly as DeepSeek-Math's extractor for `bench` produces it (str, or list for MATH)."""
    if bench in _MATH_BENCHES:
        return extract_math_answer(question, _cut(response, "Problem:"))
    if bench in ("gsm8k", "gsm8k_train"):
        # few-shot protocol unless the response is in the zero-shot boxed format
        return extract_answer(response) if "boxed" in response else extract_gsm_few_shot(response)
    if bench in ("sat", "sat_math", "mmlu_stem"):
        return extract_sat(response)
    if bench == "ocw":
        return extract_ocw(response)
    if bench == "cmath":
        return extract_cmath(response, question)
    if bench == "gaokao_mathcloze":
        return extract_gaokao_cloze(response)
    if bench == "gaokao_mathqa":
        return extract_gaokao_qa(response)
    return extract_answer(response)


def gold_answer(gold: str, bench: str | None = None, question: str | None = None):
    """The gold in the form DeepSeek-Math compares against (strip_string'ed; a list for MATH / cloze)."""
    gold = str(gold)
    if bench in _MATH_BENCHES:
        return extract_math_answer(question, gold if "boxed" in gold else "\\boxed{" + gold + "}")
    if bench == "gaokao_mathcloze":
        return [a.strip() for a in gold.split(";")]
    if bench in ("sat", "sat_math", "mmlu_stem", "gaokao_mathqa", "ocw"):
        return gold.strip()
    return strip_string(gold[:MAX_CANDIDATE_CHARS])


# ----------------------------------------------------------------------------------------------------
# §5.5 math_equal / is_correct / per-benchmark eval
# ----------------------------------------------------------------------------------------------------


class NeedsSympy(Exception):
    """Raised by the in-process pass when a symbolic check is needed (it then runs in a worker)."""


def parse_digits(num):
    num = str(num).replace(",", "")
    try:
        return float(num)
    except ValueError:
        if num.endswith("%"):
            num = num[:-1]
            if num.endswith("\\"):
                num = num[:-1]
            try:
                return float(num) / 100
            except ValueError:
                pass
    return None


def parse_latex_like_deepseek(s: str):
    """sympy's own ANTLR LaTeX parser (`sympy.parsing.latex.parse_latex`, the one DeepSeek-Math calls),
    driven directly: sympy refuses to start it unless the ANTLR runtime's version string starts with
    4.11, while math-verify's latex2sympy2_extended needs 4.13 in the same environment. The generated
    parser and its conversion functions are sympy's, unchanged; runtime 4.13 reads 4.11's serialized
    grammar (both use ATN format 4). Like the original, input after the first relation is ignored
    (`1,2` parses as 1) and a syntax error raises."""
    import contextlib
    import io

    import antlr4
    from sympy.parsing.latex import _parse_latex_antlr as antlr_latex

    s = s.strip()
    listener = antlr_latex.MathErrorListener(s)
    with contextlib.redirect_stdout(io.StringIO()):  # "ANTLR runtime and generated code versions disagree"
        lexer = antlr_latex.LaTeXLexer(antlr4.InputStream(s))
        lexer.removeErrorListeners()
        lexer.addErrorListener(listener)
        parser = antlr_latex.LaTeXParser(antlr4.CommonTokenStream(lexer))
        parser.removeErrorListeners()
        parser.addErrorListener(listener)
    return antlr_latex.convert_relation(parser.math().relation())


# ---- parse_expr without eval -----------------------------------------------------------------------
# DeepSeek-Math falls back to `sympy.parse_expr`, which turns the text into Python code (sympy's
# tokenizer transformations: auto_symbol, auto_number, factorial_notation, ...) and `eval`s it. We run
# the same transformations (pure token rewriting) and then INTERPRET the resulting expression tree
# ourselves: numbers, sympy constants, arithmetic, comparisons, tuples and calls of sympy classes and
# a few pure functions. Anything else (attributes, strings outside Symbol('x') / Float('1.5'),
# sympify-like functions, builtins such as eval/open) is refused, which — like any parse failure in
# the original — leaves the text a plain string.
_STR_ARG_PATTERNS = {"Symbol": r"[A-Za-z_]\w*", "Function": r"[A-Za-z_]\w*", "Float": r"[0-9.eE+-]+",
                     "Integer": r"[0-9]+", "Rational": r"[0-9./+-]+"}
_SAFE_FUNCTIONS = {"sqrt", "root", "cbrt", "N", "abs", "round", "pow", "divmod", "factorial", "binomial",
                   "gcd", "lcm", "Max", "Min", "max", "min", "nsimplify"}
_UNSAFE = {"S", "sympify", "parse_expr", "lambdify", "var", "symbols", "preview", "Lambda", "evaluate"}
_GLOBALS: dict | None = None


def _parse_expr_globals() -> dict:
    """The namespace parse_expr builds (`from sympy import *`, builtin functions, max/min -> Max/Min)."""
    global _GLOBALS
    if _GLOBALS is None:
        import builtins
        import types

        import sympy

        g = {name: getattr(sympy, name) for name in sympy.__all__}
        g.update({name: obj for name, obj in vars(builtins).items() if isinstance(obj, types.BuiltinFunctionType)})
        g["max"], g["min"] = sympy.Max, sympy.Min
        _GLOBALS = g
    return _GLOBALS


def _allowed(name: str, obj) -> bool:
    import sympy

    if name.startswith("_") or name in _UNSAFE:
        return False
    if isinstance(obj, sympy.Basic) or name in _SAFE_FUNCTIONS:
        return True
    return isinstance(obj, type) and issubclass(obj, sympy.Basic)


def _interpret(node, g: dict):
    import ast
    import operator

    binops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Pow: operator.pow, ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv,
              ast.BitXor: operator.xor, ast.BitAnd: operator.and_, ast.BitOr: operator.or_}
    unops = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_, ast.Invert: operator.invert}
    cmps = {ast.Lt: operator.lt, ast.Gt: operator.gt, ast.LtE: operator.le, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
    if isinstance(node, ast.Expression):
        return _interpret(node.body, g)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in g and _allowed(node.id, g[node.id]):
            return g[node.id]
        raise ValueError(f"name {node.id!r} not allowed")
    if isinstance(node, ast.BinOp) and type(node.op) in binops:
        return binops[type(node.op)](_interpret(node.left, g), _interpret(node.right, g))
    if isinstance(node, ast.UnaryOp) and type(node.op) in unops:
        return unops[type(node.op)](_interpret(node.operand, g))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in cmps:
        return cmps[type(node.ops[0])](_interpret(node.left, g), _interpret(node.comparators[0], g))
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = [_interpret(e, g) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else (items if isinstance(node, ast.List) else set(items))
    if isinstance(node, ast.Call) and not node.keywords:
        pattern = _STR_ARG_PATTERNS.get(node.func.id) if isinstance(node.func, ast.Name) else None
        if pattern and len(node.args) == 1 and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            if not re.fullmatch(pattern, node.args[0].value):
                raise ValueError("string argument not allowed")
            return _interpret(node.func, g)(node.args[0].value)
        return _interpret(node.func, g)(*[_interpret(a, g) for a in node.args])
    raise ValueError(f"{type(node).__name__} not allowed")


def parse_expr_safely(s: str, convert_xor: bool = False):
    """`sympy.parse_expr(s)` (standard transformations; `convert_xor` as `sympify` adds it) with the
    transformed code interpreted by `_interpret` instead of `eval`; raises where either would fail."""
    import ast

    from sympy.parsing import sympy_parser as sp

    transformations = sp.standard_transformations + ((sp.convert_xor,) if convert_xor else ())
    code = sp.stringify_expr(s, {}, _parse_expr_globals(), transformations)
    return _interpret(ast.parse(code, mode="eval"), _parse_expr_globals())


def _sympy_parse(s: str):
    """DeepSeek-Math's `_parse`: parse_latex, else parse_expr (here without eval), else the string itself."""
    for parse in (parse_latex_like_deepseek, parse_expr_safely):
        try:
            return parse(s)
        except Exception:  # noqa: BLE001 — the original's bare `except: pass`
            pass
    return s


_WARM = False


def warm_up() -> None:
    """Build the ANTLR lexer/parser once (about 1.5 s: the serialized grammar is deserialized on first
    use) and touch the sympy paths a comparison uses, so no item pays for them. Once per process."""
    global _WARM
    if _WARM:
        return
    _WARM = True
    symbolic_equal("\\frac{\\sqrt{2}}{2}+x", "x+0.7071")
    parse_expr_safely("x**2 + 1")


def _numeric(x):
    """sympy's `N(x)`; a string goes through `sympify` as in the original — parsed without eval here."""
    from sympy import N

    return N(parse_expr_safely(x.replace("\n", ""), convert_xor=True) if isinstance(x, str) else x)


def symbolic_equal(a: str, b: str, allow_sympy: bool = True) -> bool:
    if not allow_sympy:
        raise NeedsSympy
    from sympy import simplify

    x, y = _sympy_parse(a), _sympy_parse(b)
    try:
        if simplify(x - y) == 0:
            return True
    except Exception:
        pass
    try:
        if isclose(_numeric(x), _numeric(y), abs_tol=1e-3):
            return True
    except Exception:
        pass
    return False


_BRACKETED = re.compile(r"(\(|\[).+(\)|\])")


def math_equal(prediction, reference, include_percentage: bool = True, is_close: bool = True,
               allow_sympy: bool = True) -> bool:
    """spec §5.5 math_equal, steps 1-6."""
    if str(prediction) == str(reference):
        return True
    p_num, r_num = parse_digits(prediction), parse_digits(reference)
    if p_num is not None and r_num is not None:
        candidates = [r_num / 100, r_num, r_num * 100] if include_percentage else [r_num]
        for item in candidates:
            if (isclose(item, p_num, abs_tol=1e-3) if is_close else item == p_num):
                return True
        return False
    if not prediction and prediction not in [0, False]:
        return False
    reference, prediction = str(reference).strip(), str(prediction).strip()
    if _BRACKETED.match(prediction) and _BRACKETED.match(reference):
        pp, rp = prediction[1:-1].split(","), reference[1:-1].split(",")
        if len(pp) == len(rp) and all(math_equal(a, b, include_percentage, is_close, allow_sympy) for a, b in zip(pp, rp)):
            return True
    mats = ("\\begin{pmatrix}", "\\begin{bmatrix}")
    ends = ("\\end{pmatrix}", "\\end{bmatrix}")
    if prediction.startswith(mats) and prediction.endswith(ends) and reference.startswith(mats) and reference.endswith(ends):
        def rows(m):
            return [r.strip() for r in m[len("\\begin{pmatrix}") : -len("\\end{pmatrix}")].split("\\\\") if r.strip()]

        pr, rr = rows(prediction), rows(reference)
        matched = len(pr) == len(rr)
        if matched:
            for a, b in zip(pr, rr):
                ac, bc = a.split("&"), b.split("&")
                if len(ac) != len(bc) or not all(math_equal(x, y, include_percentage, is_close, allow_sympy) for x, y in zip(ac, bc)):
                    matched = False
                    break
        if matched:
            return True
    if prediction.count("=") == 1 and reference.count("=") == 1:
        pl, pr_ = prediction.split("=")
        rl, rr_ = reference.split("=")
        p_expr, r_expr = f"{pl.strip()} - ({pr_.strip()})", f"{rl.strip()} - ({rr_.strip()})"
        if symbolic_equal(p_expr, r_expr, allow_sympy) or symbolic_equal(f"-({p_expr})", r_expr, allow_sympy):
            return True
    elif prediction.count("=") == 1 and len(prediction.split("=")[0].strip()) <= 2 and "=" not in reference:
        if math_equal(prediction.split("=")[1], reference, include_percentage, is_close, allow_sympy):
            return True
    elif reference.count("=") == 1 and len(reference.split("=")[0].strip()) <= 2 and "=" not in prediction:
        if math_equal(prediction, reference.split("=")[1], include_percentage, is_close, allow_sympy):
            return True
    return symbolic_equal(prediction, reference, allow_sympy)


def is_correct(pred, ans, prec: float = 1e-3, allow_sympy: bool = True) -> bool:
    if isinstance(pred, list) and isinstance(ans, list):
        pm, am = set(), set()
        for i, p in enumerate(pred):
            for j, a in enumerate(ans):
                if is_correct(p, a, prec, allow_sympy):
                    pm.add(i)
                    am.add(j)
        return len(pm) == len(pred) and len(am) == len(ans)
    pred, ans = str(pred), str(ans)
    if "\\cup" in pred and "\\cup" in ans:
        return is_correct(pred.split("\\cup"), ans.split("\\cup"), prec, allow_sympy)
    try:
        if abs(float(pred.replace(",", "")) - float(ans.replace(",", ""))) < prec:
            return True
    except ValueError:
        pass
    return bool(ans and pred == ans) or math_equal(pred, ans, allow_sympy=allow_sympy)


def _dedupe(xs):
    out = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out


def eval_math(pred: list, ans: list, allow_sympy: bool = True) -> bool:
    ans = _dedupe(ans)
    pred = _dedupe(pred)[-len(ans):] if ans else _dedupe(pred)
    return is_correct(pred, ans, allow_sympy=allow_sympy)


def eval_gaokao_cloze(pred: list, ans: list, allow_sympy: bool = True) -> bool:
    pieces: list[str] = []
    for p in pred:
        p = p + ";"
        while p:
            depth = 0
            for i, ch in enumerate(p):
                if ch == ";" or (ch == "," and depth == 0):
                    piece, p = p[:i].strip(), p[i + 1 :].strip()
                    if piece not in pieces:
                        pieces.append(piece)
                    break
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
            else:
                break  # unbalanced remainder without a separator: the original would loop forever
    pieces = pieces[-len(ans):]
    return len(pieces) == len(ans) and all(is_correct(p, a, allow_sympy=allow_sympy) for p, a in zip(pieces, ans))


def eval_gaokao_qa(pred: str, ans: str) -> bool:
    tag, idx = None, -1
    for t in "ABCD":
        if t in pred and pred.index(t) > idx:
            tag, idx = t, pred.index(t)
    return tag == ans


def eval_ocw(pred: str, ans: str, allow_sympy: bool = True) -> bool:
    from seekmath.evaluate.equivalence import normalize, parse_number

    if not pred or pred == "[invalid]":
        return False
    try:
        float(ans)
        numeric = True
    except ValueError:
        numeric = False
    if numeric:
        p = parse_number(re.sub(r"\\(?:text|mathrm|mbox)\{[^{}]*\}|[a-zA-Z]+$", "", normalize(pred)).strip())
        if p is None:
            return False
        a, b = float(p.value), float(ans)
        if abs(b) < 1e-12 or abs(a) < 1e-12:
            return abs(a - b) < 0.01 * abs(a + b) / 2 if (a + b) else a == b
        return abs(a - b) <= 1e-8 + 1e-5 * abs(b)
    if "=" in ans:
        return normalize(pred).replace(" ", "") == normalize(ans).replace(" ", "")
    p, a = normalize(pred).replace(" ", ""), normalize(ans).replace(" ", "")
    return p == a or symbolic_equal(p, a, allow_sympy)


def evaluate(pred, gold, bench: str | None = None, allow_sympy: bool = True) -> bool:
    """The per-benchmark eval_fn of DeepSeek-Math on (extracted prediction, prepared gold)."""
    if bench in _MATH_BENCHES:
        return eval_math(list(pred), list(gold), allow_sympy)
    if bench in ("sat", "sat_math", "mmlu_stem"):
        return str(pred).lower() == str(gold).lower()
    if bench == "gaokao_mathqa":
        return eval_gaokao_qa(str(pred), str(gold))
    if bench == "gaokao_mathcloze":
        return eval_gaokao_cloze(list(pred), list(gold), allow_sympy)
    if bench == "ocw":
        return eval_ocw(str(pred), str(gold), allow_sympy)
    return is_correct(str(pred), str(gold), allow_sympy=allow_sympy)


def heavy_equal(pred, gold, bench: str | None = None) -> tuple[str, str]:
    """Worker-side: the full evaluation with sympy allowed."""
    ok = evaluate(pred, gold, bench, allow_sympy=True)
    return ("correct", "deepseek math_equal") if ok else ("incorrect", "deepseek: not equal")
