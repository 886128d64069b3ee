"""model.prompt_format: one prompt layout for SFT, RL and zero-shot eval, checked on real tokenizers
(SmolLM2's and Qwen2.5's: exact token ids, one BOS, the SFT loss on exactly the assistant turn)."""

import pytest
from real_models import qwen_tokenizer, smollm2_dir

from seekmath.config import ConfigError
from seekmath.evaluate.prompts import build_prompt
from seekmath.models import COT_SUFFIX, load_tokenizer, render_example, render_prompt, train_tokenizer
from seekmath.rl.grpo import policy_prompt
from seekmath.tasks.records import Problem
from seekmath.train.data import chat_turns, sft_segment, tokenize_examples

Q = "Mia has 12 apples and buys 7 more. How many apples does she have?"
A = "12 + 7 = 19.\nThe answer is \\boxed{19}."


@pytest.fixture(scope="module")
def smollm2_tok():
    return load_tokenizer(smollm2_dir())


@pytest.fixture(scope="module")
def qwen_tok():
    return qwen_tokenizer()


# (token ids the template puts around the user turn: system turn head, prompt tail)
SMOLLM2_IDS = {"head": [1, 9690, 198], "tail": [2, 198, 1, 520, 9531, 198], "eos": 2, "newline": 198}
QWEN_IDS = {"head": [151644, 8948, 198, 2610, 525, 1207, 16948, 11], "tail": [151645, 198, 151644, 77091, 198],
            "eos": 151645, "newline": 198}


@pytest.mark.parametrize("which", ["smollm2", "qwen"])
def test_chat_template_prompt_token_ids(which, request):
    tok = request.getfixturevalue(f"{which}_tok")
    ids = SMOLLM2_IDS if which == "smollm2" else QWEN_IDS
    prompt = render_prompt(tok, Q + COT_SUFFIX)  # auto -> the tokenizer's own template
    assert prompt == render_prompt(tok, Q + COT_SUFFIX, "chat_template")
    enc = tok(prompt, add_special_tokens=True)["input_ids"]  # what the engines do
    assert enc == tok.apply_chat_template([{"role": "user", "content": Q + COT_SUFFIX}], add_generation_prompt=True,
                                          tokenize=True, return_dict=True)["input_ids"]
    assert enc[: len(ids["head"])] == ids["head"] and enc[-len(ids["tail"]):] == ids["tail"]
    body = tok(Q + COT_SUFFIX, add_special_tokens=False)["input_ids"]
    assert body == enc[len(enc) - len(ids["tail"]) - len(body): -len(ids["tail"])]  # the user turn verbatim
    # DeepSeek's layout on the same tokenizer: plain text, no template tokens
    assert render_prompt(tok, Q, "deepseek") == f"User: {Q}\n\nAssistant:"


def test_qwen_digits_are_single_tokens(qwen_tok):
    assert qwen_tok("Hello world 123", add_special_tokens=False)["input_ids"] == [9707, 1879, 220, 16, 17, 18]


@pytest.mark.parametrize("which", ["smollm2", "qwen"])
def test_sft_mask_covers_exactly_the_assistant_turn(which, request):
    tok = request.getfixturevalue(f"{which}_tok")
    ids = SMOLLM2_IDS if which == "smollm2" else QWEN_IDS
    ((p, c),) = tokenize_examples([chat_turns(Q + COT_SUFFIX, A)], tok, 1024)
    full = tok.apply_chat_template([{"role": "user", "content": Q + COT_SUFFIX}, {"role": "assistant", "content": A}],
                                   tokenize=True, return_dict=True)["input_ids"]
    assert p == tok(render_prompt(tok, Q + COT_SUFFIX))["input_ids"]  # trained on the prompt eval/RL use
    assert p + c + [ids["newline"]] == full  # the turn separator after <|im_end|> is not trained
    assert c == tok(A, add_special_tokens=False)["input_ids"] + [ids["eos"]]  # answer + end of turn, one EOS
    seg, mask = sft_segment(p, c)
    assert [t for t, m in zip(seg, mask) if m] == c and sum(mask) == len(c)


def test_tiny_tokenizer_auto_is_deepseek_with_one_bos():
    """The tiny tokenizer adds BOS itself and its template starts with BOS: one BOS, DeepSeek's text."""
    tok = train_tokenizer([Q, A] * 20, vocab_size=300)
    assert render_prompt(tok, Q) == render_prompt(tok, Q, "deepseek") == f"User: {Q}\n\nAssistant:"
    enc = tok(render_prompt(tok, Q))["input_ids"]
    assert enc.count(tok.bos_token_id) == 1 and enc[0] == tok.bos_token_id
    assert render_example(tok, Q, A) == (f"User: {Q}\n\nAssistant:", f" {A}<|eos|>")
    ((p, c),) = tokenize_examples([chat_turns(Q, A)], tok, 512)
    ((p2, c2),) = tokenize_examples([chat_turns(Q, A, "deepseek")], tok, 512)
    assert (p, c) == (p2, c2) and c[-1] == tok.eos_token_id and c.count(tok.eos_token_id) == 1


def test_sft_rl_eval_prompts_are_one_layout(smollm2_tok):
    tok = smollm2_tok
    p = Problem(id="x", question=Q, answer="19")
    rendered = render_prompt(tok, Q + COT_SUFFIX)
    assert build_prompt("zeroshot", "gsm8k", p, tokenizer=tok).text == rendered
    assert policy_prompt(Q, tok) == rendered
    ((sft_prompt, _),) = tokenize_examples([chat_turns(Q + COT_SUFFIX, A)], tok, 1024)
    assert sft_prompt == tok(rendered)["input_ids"]
    # DeepSeek's layout when configured, and few-shot prompts for base models unchanged by the tokenizer
    assert build_prompt("zeroshot", "gsm8k", p, tokenizer=tok, fmt="deepseek").text == f"User: {Q}{COT_SUFFIX}\n\nAssistant:"
    assert build_prompt("fewshot", "gsm8k", p, tokenizer=tok).text == build_prompt("fewshot", "gsm8k", p).text


def test_unknown_or_impossible_format_is_one_line():
    tok = train_tokenizer([Q] * 20, vocab_size=300)
    with pytest.raises(ConfigError, match="model.prompt_format: unknown format 'chatml'"):
        render_prompt(tok, Q, "chatml")
    tok.chat_template = None
    with pytest.raises(ConfigError, match="no chat template"):
        render_prompt(tok, Q, "chat_template")
    assert render_prompt(tok, Q) == f"User: {Q}\n\nAssistant:"  # auto falls back to DeepSeek's layout
