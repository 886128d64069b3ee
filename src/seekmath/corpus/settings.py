"""Settings of the corpus stage (`corpus:` section of a config). Owned by the corpus package.

Defaults are the paper's values where DeepSeekMath gives one (§2.1 of the paper, spec §1); the
rest are this project's choices, each commented with why.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CorpusConfig:
    seed: int = 0
    demo_pages: int = 3000  # pages of the generated mini-crawl (`corpus demo-crawl`)

    # --- executor ---
    engine: str = "local"  # local | ray
    workers: int = 2  # processes (local) or CPUs of a local Ray cluster
    ray_address: str = ""  # "" = start a local Ray cluster; "auto" or host:port = join an existing one
    ray_temp_dir: str = ""  # "" = a short folder under /tmp (Ray's socket paths must stay < 108 chars)
    output_format: str = "jsonl.gz"  # jsonl.gz | parquet

    # --- fastText classifier, the paper's settings (§1.1) ---
    dim: int = 256
    lr: float = 0.1
    word_ngrams: int = 3
    min_count: int = 3
    epochs: int = 3
    bucket: int = 2_000_000  # fastText's default; 2 GB models at dim 256 -> the tiny config lowers it
    loss: str = "softmax"  # fastText default for supervised training
    ft_threads: int = 1  # 1 = deterministic training (Hogwild with >1 threads is not reproducible)
    quantize: bool = False  # save a quantised .ftz model (product quantisation, ~50x smaller)
    quantize_cutoff: int = 200_000
    max_positives: int = 500_000  # paper: 500K positives, 500K negatives
    negative_ratio: float = 1.0  # negatives per positive (paper: 1:1, random web pages)
    score_batch: int = 1024  # documents per fastText predict call

    # --- seed of iteration 1 (paper: OpenWebMath). Both kinds may be given; their positives are pooled.
    # Command-line --seed-file / --seed-prefix replace BOTH config keys (see `seekmath corpus build --help`) ---
    seed_prefixes: list[str] = field(default_factory=list)  # pool pages under these URL prefixes, e.g. ["mathqa.example/questions/"]
    seed_file: str = ""  # math text: a jsonl/parquet file or folder with `text`, hf:NAME[@SPLIT] (e.g. hf:open-web-math/open-web-math), or synthetic:N

    # --- recall loop (§1.3-1.5) ---
    max_iterations: int = 4
    stop_overlap: float = 0.98  # stop when this share of the iteration's collection was collected the iteration before
    keep_tokens: list[int] = field(default_factory=list)  # per-iteration top-N token budgets; last repeats; [] = no cap
    min_score: float = 0.5  # never keep a page the classifier gives P(math) below this (0 = pure top-N)
    domain_threshold: float = 0.10  # domains with > 10% of their pages collected are math domains
    domain_min_pages: int = 5  # a domain needs this many pages in the pool to be judged (1 of 1 is not 100%)
    path_depth: int = 0  # folders per proposed URL path; 0 = per domain, the shallowest depth where the site splits into sections
    path_max_depth: int = 4  # deepest folder level the per-domain choice looks at
    path_review: str = "auto"  # auto = accept by the rule below | file = read accept column from path_review_file
    path_review_file: str = ""  # human-edited TSV (domain, prefix, depth, ..., accept) used when path_review=file
    path_accept_share: float = 0.5  # auto rule: accept a path when at least this share of its pages is classifier-positive
    path_min_pages: int = 3  # auto rule: and that holds at least this many pages
    drift_guard: str = "stop"  # stop | warn | off: when an iteration's positives disagree with the previous classifier
    drift_max_disagree: float = 0.5  # ... more than this share of them scored non-math by it
    fail_on_empty: bool = False  # exit non-zero (status 3, after writing stats) when the corpus is (nearly) empty
    min_documents: int = 10  # a corpus with fewer pages is reported as (nearly) empty: a warning, or status 3 with fail_on_empty

    # --- dedup (§1.2) ---
    url_dedup: bool = True
    near_dedup: bool = True
    dedup_keep: str = "canonical"  # which copy survives: canonical (no query, larger site, shorter URL) | first
    minhash_shingle: int = 5  # word shingles
    minhash_bands: int = 14  # LSH bands x rows = signature length (datatrove's default 14 x 8)
    minhash_rows: int = 8
    minhash_threshold: float = 0.7  # candidate pairs are kept as duplicates when estimated Jaccard >= this

    # --- decontamination (§1.6) ---
    benchmarks: list[str] = field(default_factory=lambda: ["gsm8k", "math500", "cmath", "gaokao_mathcloze", "gaokao_mathqa"])
    decontam_synthetic_test: bool = True  # also the test split of the config's synthetic task (the tiny recipe evaluates on it)
    decontam_ngram: int = 10  # rule 1: any shared 10-gram
    decontam_min_ngram: int = 3  # rule 2: benchmark texts of 3..9 grams must match exactly
    decontam_whole_text: list[str] = field(default_factory=lambda: ["synthetic_test"])  # templated: whole-text match only
    decontam_fields: list[str] = field(default_factory=lambda: ["question", "solution"])  # + "answer" for final answers
