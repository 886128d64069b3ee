import pytest

from seekmath.config import (
    Config,
    ConfigError,
    apply_overrides,
    config_names,
    dump_config,
    load_config,
    parse_override,
)


def test_shipped_configs_load():
    names = config_names()
    for required in ("smoke", "tiny", "deepseekmath-7b"):
        assert required in names
    for name in names:
        assert isinstance(load_config(name), Config)


def test_paper_hyperparameters_in_7b_config():
    cfg = load_config("deepseekmath-7b")
    assert cfg.rl.lr == 1e-6 and cfg.rl.beta == 0.04 and cfg.rl.group_size == 64
    assert cfg.rl.max_new_tokens == 1024 and cfg.rl.mu == 1
    assert (cfg.corpus.dim, cfg.corpus.lr, cfg.corpus.word_ngrams, cfg.corpus.min_count, cfg.corpus.epochs) == (256, 0.1, 3, 3, 3)
    assert cfg.sft.lr == 5e-5 and cfg.pretrain.lr == 4.2e-4


def test_base_inheritance_and_overrides():
    tiny, smoke = load_config("tiny"), load_config("smoke")
    assert smoke.model.hidden_size < tiny.model.hidden_size
    assert smoke.model.arch == tiny.model.arch  # inherited from tiny
    cfg = load_config("smoke", ["rl.beta=0.5", "model.hidden_size=128", "eval.k=[1,2,3]", "model.arch=qwen2"])
    assert cfg.rl.beta == 0.5 and cfg.model.hidden_size == 128 and cfg.eval.k == [1, 2, 3]
    assert cfg.model.arch == "qwen2"


def test_int_widens_to_float_but_not_the_reverse():
    assert load_config("smoke", ["rl.beta=1"]).rl.beta == 1.0
    with pytest.raises(ConfigError, match=r"model\.hidden_size.*1\.5.*int"):
        load_config("smoke", ["model.hidden_size=1.5"])


def test_unknown_key_names_key_and_closest():
    with pytest.raises(ConfigError) as e:
        load_config("tiny", ["rl.betta=0.04"])
    assert "rl.betta" in str(e.value) and "rl.beta" in str(e.value)
    with pytest.raises(ConfigError, match="unknown config key 'modle'.*'model'"):
        load_config("tiny", ["modle.hidden_size=3"])


def test_wrong_type_names_key_value_and_type():
    with pytest.raises(ConfigError) as e:
        load_config("tiny", ["rl.beta=abc"])
    msg = str(e.value)
    assert "rl.beta" in msg and "'abc'" in msg and "float" in msg
    with pytest.raises(ConfigError, match="bool"):
        load_config("tiny", ["model.tie_word_embeddings=3"])
    with pytest.raises(ConfigError, match="list"):
        load_config("tiny", ["eval.k=8"])


def test_bad_files_and_names(tmp_path):
    with pytest.raises(ConfigError, match="unknown config 'tinny'.*'tiny'"):
        load_config("tinny")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(str(bad))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("base: smoke\nmodel:\n  hiden_size: 3\n")
    with pytest.raises(ConfigError, match="model.hiden_size.*model.hidden_size"):
        load_config(str(wrong))


def test_yaml_file_with_base_path(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("base: smoke\nrl:\n  beta: 0.1\n")
    cfg = load_config(str(f))
    assert cfg.rl.beta == 0.1 and cfg.run.name == "smoke"


def test_override_parsing():
    assert parse_override("a.b=0.04") == (["a", "b"], 0.04)
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
    assert parse_override("a=hello") == (["a"], "hello")
    with pytest.raises(ConfigError):
        parse_override("novalue")
    with pytest.raises(ConfigError):
        parse_override("a..b=1")
    assert apply_overrides({"a": {"x": 1}}, ["a.y=2"]) == {"a": {"x": 1, "y": 2}}


def test_dump_roundtrip(tmp_path):
    cfg = load_config("smoke", ["rl.beta=0.3"])
    f = tmp_path / "dumped.yaml"
    f.write_text(dump_config(cfg))
    assert load_config(str(f)) == cfg


def test_scientific_notation_without_dot_is_a_float():
    # YAML 1.1 reads 3e-3 as a string; a person means a float
    assert load_config("smoke", ["sft.lr=3e-3"]).sft.lr == 0.003
    assert load_config("smoke", ["rl.beta=4E-2"]).rl.beta == 0.04
    with pytest.raises(ConfigError, match="expected float"):
        load_config("smoke", ["rl.beta=3e"])
