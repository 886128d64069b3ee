"""Attention over packed rows computed one document at a time ("sdpa_packed").

The trainer packs several documents into one row and isolates them by restarting `position_ids`.
transformers' `sdpa` then builds a block-diagonal causal mask and hands it to
`scaled_dot_product_attention`, whose kernels compute every block of the full T x T product, the masked
ones too: with SFT's ~120-token examples in 512-token rows three quarters of the attention work is thrown
away (bench/train_flops.py). Here each document is attended to on its own with `is_causal`, which is the
same mathematics (a token sees exactly the earlier tokens of its own document), at the cost of
sum(T_i^2) instead of T^2.

Used on CPU, and only where the block-diagonal case is what is asked for: no padding mask, no cache,
queries and keys of one length, no sliding window; everything else takes transformers' own `sdpa` path.
"""

from __future__ import annotations

import torch

try:
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
except ImportError:  # a transformers without the attention / mask interfaces: its sdpa mask path stays
    AttentionInterface = None

NAME = "sdpa_packed"


def document_bounds(position_ids: torch.Tensor) -> list[list[tuple[int, int]]]:
    """Per row, the [start, end) spans of its documents: a new one wherever a position does not follow the last."""
    rows = []
    for pos in position_ids.tolist():
        starts = [0] + [t for t in range(1, len(pos)) if pos[t] != pos[t - 1] + 1]
        rows.append(list(zip(starts, starts[1:] + [len(pos)])))
    return rows


def _packed_mask(*, attention_mask=None, q_length, kv_length, q_offset=0, config=None, **kwargs):
    """No mask in the packed training case (the attention splits the rows itself); sdpa's mask otherwise."""
    if attention_mask is None and q_length == kv_length and not q_offset and not getattr(config, "sliding_window", None):
        return None
    return sdpa_mask(attention_mask=attention_mask, q_length=q_length, kv_length=kv_length, q_offset=q_offset,
                     config=config, **kwargs)


def packed_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, position_ids=None, **kwargs):
    """`sdpa_attention_forward`'s contract (query [B, H, T, D] -> output [B, T, H, D], None), per document."""
    q_len = query.shape[2]
    if attention_mask is not None or position_ids is None or key.shape[2] != q_len or q_len < 2 \
            or not getattr(module, "is_causal", True) or getattr(module, "sliding_window", None):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs)
    groups = getattr(module, "num_key_value_groups", 1)
    if groups > 1:
        key, value = repeat_kv(key, groups), repeat_kv(value, groups)
    p = dropout if module.training else 0.0
    rows = []
    for b, spans in enumerate(document_bounds(position_ids.expand(query.shape[0], -1))):
        rows.append(torch.cat([
            torch.nn.functional.scaled_dot_product_attention(query[b:b + 1, :, s:e], key[b:b + 1, :, s:e], value[b:b + 1, :, s:e],
                                                             dropout_p=p, scale=scaling, is_causal=e - s > 1)
            for s, e in spans], dim=2))
    return torch.cat(rows, dim=0).transpose(1, 2).contiguous(), None


if AttentionInterface is not None:
    AttentionInterface.register(NAME, packed_attention_forward)
    AttentionMaskInterface.register(NAME, _packed_mask)


def use_packed_attention(model) -> bool:
    """Switch a CPU model on transformers' `sdpa` to per-document attention; anything else is left alone.

    CPU only: that is where it was measured, and where sdpa has no kernel for variable-length documents.
    On a GPU, `flash_attention_2` already attends per document from position_ids, and this loop's one
    host sync per layer (`document_bounds`) has not been measured against sdpa's masked kernel there.
    """
    if (AttentionInterface is None or not hasattr(model, "set_attn_implementation")
            or getattr(model.config, "_attn_implementation", None) != "sdpa" or model.device.type != "cpu"):
        return False
    model.set_attn_implementation(NAME)
    return True
