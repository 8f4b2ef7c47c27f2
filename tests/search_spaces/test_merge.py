"""Merge order: defaults.yaml < objective < domain < extra files < overrides."""

from __future__ import annotations

import textwrap

import pytest

from search_spaces import default_point, load_space


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def test_layers_are_merged_in_order():
    space = load_space("emix", "speech", extra_files=["model_size"])
    assert space.sources == (
        "search_spaces/defaults.yaml",
        "search_spaces/emix.yaml",
        "search_spaces/domains/speech.yaml",
        "search_spaces/model_size.yaml",
    )
    # defaults.yaml searches batch_size over [64, 128, 256]; the domain file replaces it
    assert space.search["batch_size"].choices == (16, 32, 64)
    assert space.search["batch_size"].default == 32
    # defaults.yaml fixes max_steps at 300; the domain file fixes its own budget
    assert space.fixed["max_steps"] == 600 and "max_steps" not in space.search
    # the objective file adds its own knobs; defaults' stay
    assert {"mix_alpha", "temperature", "lr", "weight_decay"} <= set(space.search)


def test_fixed_to_searched_inherits_the_earlier_value_as_default():
    digits = load_space("emix", "digits", extra_files=["model_size"])
    assert digits.search["depth"].default == 4  # the domain file's small encoder
    assert digits.search["embed_dim"].default == 64
    assert "depth" not in digits.fixed


def test_dabs_lib_default_when_no_layer_set_the_key(tmp_path):
    path = write(
        tmp_path,
        "seeds.yaml",
        """
        search:
          data_seed: {type: int, low: 0, high: 100, doc: split seed}
        """,
    )
    assert load_space("emix", "digits", extra_files=[path]).search["data_seed"].default == 42


def test_later_file_wins_and_may_move_keys_both_ways(tmp_path):
    first = write(
        tmp_path,
        "first.yaml",
        """
        fixed:
          lr: 3.0e-4
        search:
          dropout: {type: uniform, low: 0.0, high: 0.3, step: 0.05, doc: dropout}
        """,
    )
    second = write(
        tmp_path,
        "second.yaml",
        """
        fixed:
          dropout: 0.2
        search:
          lr: {type: loguniform, low: 1e-4, high: 1e-3, doc: peak learning rate}
        """,
    )
    space = load_space("emix", "digits", extra_files=[first])
    assert space.fixed["lr"] == 3.0e-4 and "lr" not in space.search
    assert space.search["dropout"].default == 0.1  # inherited from defaults.yaml's fixed value
    space = load_space("emix", "digits", extra_files=[first, second])
    assert space.fixed["dropout"] == 0.2 and "dropout" not in space.search
    lr = space.search["lr"]
    assert (lr.low, lr.high) == (1e-4, 1e-3)  # scientific notation without a dot reads as a number
    assert lr.default == 3.0e-4  # inherited from first.yaml, where it was fixed
    assert space.sources[-2:] == (first, second)


def test_overrides_come_last(tmp_path):
    user = write(
        tmp_path,
        "user.yaml",
        """
        fixed:
          temperature: 0.5
        """,
    )
    space = load_space("emix", "digits", extra_files=[user], overrides={"temperature": 0.1, "depth": 2})
    assert space.fixed["temperature"] == 0.1 and space.fixed["depth"] == 2
    assert space.sources[-1] == "overrides"
    searched = {"type": "choice", "choices": [0.1, 0.2], "default": 0.2, "doc": "logit temperature"}
    space = load_space("emix", "digits", extra_files=[user], overrides={"temperature": searched})
    assert space.search["temperature"].choices == (0.1, 0.2) and "temperature" not in space.fixed


def test_inherited_default_must_fit_the_new_range(tmp_path):
    user = write(
        tmp_path,
        "user.yaml",
        """
        search:
          temperature: {type: loguniform, low: 0.3, high: 1.0, doc: logit temperature}
        """,
    )
    with pytest.raises(ValueError, match=r"default=0.2 \(inherited from search_spaces/emix.yaml"):
        load_space("emix", "digits", extra_files=[user])
    explicit = write(
        tmp_path,
        "explicit.yaml",
        """
        search:
          temperature: {type: loguniform, low: 0.3, high: 1.0, default: 0.5, doc: logit temperature}
        """,
    )
    assert default_point(load_space("emix", "digits", extra_files=[explicit]))["temperature"] == 0.5


def test_addon_by_name_or_path_is_the_same():
    by_name = load_space("mae", "tokens", extra_files=["probe"])
    by_path = load_space("mae", "tokens", extra_files=["search_spaces/probe.yaml"])
    assert by_name.search == by_path.search and by_name.fixed == by_path.fixed
    assert {"finetune_lr", "finetune_weight_decay", "finetune_epochs"} <= set(by_name.search)
    assert "l2_min" not in by_name.fixed and "l2_min" not in by_name.search  # ProbeProtocol's default
