import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from seekmath.train.packed_attention import NAME, document_bounds, use_packed_attention


def _model(kv_heads: int = 2) -> LlamaForCausalLM:
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                      num_key_value_heads=kv_heads, max_position_embeddings=64, attn_implementation="sdpa")
    return LlamaForCausalLM(cfg)


def _packed_rows() -> tuple[torch.Tensor, torch.Tensor]:
    # row 0: documents of 7, 1 and 9 tokens, then 3 of padding (positions restart, as pack_segments pads);
    # row 1: one document of 20 tokens (no restart)
    pos0 = list(range(7)) + [0] + list(range(9)) + list(range(3))
    pos = torch.tensor([pos0, list(range(20))])
    ids = torch.randint(0, 64, (2, 20), generator=torch.Generator().manual_seed(1))
    return ids, pos


def test_document_bounds_split_where_positions_restart():
    _, pos = _packed_rows()
    assert document_bounds(pos) == [[(0, 7), (7, 8), (8, 17), (17, 20)], [(0, 20)]]


@pytest.mark.parametrize("kv_heads", [4, 2])
def test_per_document_attention_equals_the_block_diagonal_mask_in_logits_and_gradients(kv_heads):
    ids, pos = _packed_rows()
    runs = {}
    for impl in ("sdpa", NAME):
        model = _model(kv_heads)
        if impl == NAME:
            assert use_packed_attention(model)
        logits = model(input_ids=ids, position_ids=pos, use_cache=False).logits
        logits.float().pow(2).mean().backward()
        runs[impl] = (logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters()})
    torch.testing.assert_close(runs[NAME][0], runs["sdpa"][0], atol=1e-5, rtol=1e-5)
    for n, g in runs["sdpa"][1].items():
        torch.testing.assert_close(runs[NAME][1][n], g, atol=1e-5, rtol=1e-4, msg=n)


def test_documents_do_not_see_each_other():
    """A change in the first document leaves the later documents' logits untouched (and changes its own)."""
    ids, pos = _packed_rows()
    model = _model()
    use_packed_attention(model)
    other = ids.clone()
    other[0, 3] = (other[0, 3] + 1) % 64
    with torch.no_grad():
        a = model(input_ids=ids, position_ids=pos, use_cache=False).logits
        b = model(input_ids=other, position_ids=pos, use_cache=False).logits
    torch.testing.assert_close(a[0, 7:], b[0, 7:])
    assert not torch.allclose(a[0, 3:7], b[0, 3:7])


def test_padding_masks_and_generation_take_sdpas_own_path(tmp_path):
    torch.manual_seed(2)
    ids = torch.randint(1, 64, (2, 12))
    mask = torch.ones_like(ids)
    mask[1, :4] = 0  # left padding
    plain, packed = _model(), _model()
    use_packed_attention(packed)
    with torch.no_grad():
        torch.testing.assert_close(packed(input_ids=ids, attention_mask=mask).logits, plain(input_ids=ids, attention_mask=mask).logits)
        out = [m.generate(ids, attention_mask=mask, max_new_tokens=5, do_sample=False) for m in (plain, packed)]
    assert torch.equal(out[0], out[1])
    packed.save_pretrained(tmp_path)  # a saved checkpoint names no implementation that others cannot load
    assert NAME not in (tmp_path / "config.json").read_text()
    LlamaForCausalLM.from_pretrained(tmp_path)


def test_other_implementations_are_left_alone():
    model = _model()
    model.set_attn_implementation("eager")
    assert not use_packed_attention(model) and model.config._attn_implementation == "eager"
