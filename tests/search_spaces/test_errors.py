"""Each validation rule: a bad file (or argument) and the exact message a user sees."""

from __future__ import annotations

import textwrap

import pytest

from search_spaces import SearchSpaceError, domain_names, load_space
from search_spaces.loader import merge, parse_layer
from search_spaces.names import known_names

# (id, objective, file text, expected message with {f} for the file's path)
FILE_CASES = [
    (
        "low_above_high",
        "emix",
        """
        search:
          lr: {type: loguniform, low: 0.1, high: 0.01, doc: peak learning rate}
        """,
        "`low <= high` must hold, but got low=0.1, high=0.01 in {f}: search.lr",
    ),
    (
        "unknown_top_level_key",
        "emix",
        """
        serch:
          lr: {type: loguniform, low: 1.0e-5, high: 1.0e-2, doc: peak learning rate}
        """,
        "top-level keys must be among ['doc', 'fixed', 'search'], but got 'serch' in {f}",
    ),
    (
        "unknown_entry_key",
        "emix",
        """
        search:
          lr: {type: loguniform, low: 1.0e-5, hgih: 1.0e-2, doc: peak learning rate}
        """,
        "entry keys must be among ['type', 'low', 'high', 'step', 'choices', 'doc', 'default'], "
        "but got 'hgih' in {f}: search.lr",
    ),
    (
        "log_low_zero",
        "emix",
        """
        search:
          lr: {type: loguniform, low: 0, high: 1.0e-2, doc: peak learning rate}
        """,
        "`low > 0` must hold for type 'loguniform', but got low=0 in {f}: search.lr",
    ),
    (
        "logint_low_zero",
        "emix",
        """
        search:
          warmup_steps: {type: logint, low: 0, high: 100, doc: warmup steps}
        """,
        "`low > 0` must hold for type 'logint', but got low=0 in {f}: search.warmup_steps",
    ),
    (
        "empty_choice",
        "emix",
        """
        search:
          batch_size: {type: choice, choices: [], doc: batch size}
        """,
        "`choices` must be a non-empty list, but got [] in {f}: search.batch_size",
    ),
    (
        "low_is_string",
        "emix",
        """
        search:
          lr: {type: loguniform, low: small, high: 1.0e-2, doc: peak learning rate}
        """,
        "`low` must be a finite number, but got 'small' (str) in {f}: search.lr",
    ),
    (
        "infinite_bound",
        "emix",
        """
        search:
          dropout: {type: uniform, low: 0.0, high: .inf, doc: dropout}
        """,
        "`high` must be a finite number, but got inf (float) in {f}: search.dropout",
    ),
    (
        "int_type_float_bound",
        "emix",
        """
        search:
          depth: {type: int, low: 1.5, high: 4, doc: blocks}
        """,
        "`low` must be an int for type 'int', but got 1.5 (float) in {f}: search.depth",
    ),
    (
        "int_type_bool_bound",
        "emix",
        """
        search:
          depth: {type: int, low: true, high: 4, doc: blocks}
        """,
        "`low` must be an int for type 'int', but got True (bool) in {f}: search.depth",
    ),
    (
        "unknown_param_type",
        "emix",
        """
        search:
          lr: {type: normal, low: 1.0e-5, high: 1.0e-2, doc: peak learning rate}
        """,
        "`type` must be one of ['choice', 'int', 'logint', 'loguniform', 'quniform', 'uniform'], "
        "but got 'normal' in {f}: search.lr",
    ),
    (
        "missing_doc",
        "emix",
        """
        search:
          lr: {type: loguniform, low: 1.0e-5, high: 1.0e-2}
        """,
        "`doc` must be a non-empty one-line string, but got None in {f}: search.lr",
    ),
    (
        "missing_low",
        "emix",
        """
        search:
          dropout: {type: uniform, high: 0.3, doc: dropout}
        """,
        "`low` must be given for type 'uniform', but got keys ['doc', 'high', 'type'] in {f}: search.dropout",
    ),
    (
        "choices_on_numeric",
        "emix",
        """
        search:
          dropout: {type: uniform, low: 0.0, high: 0.3, choices: [0.1], doc: dropout}
        """,
        "`choices` must be absent for type 'uniform' (use type 'choice'), but got [0.1] in {f}: search.dropout",
    ),
    (
        "bounds_on_choice",
        "emix",
        """
        search:
          batch_size: {type: choice, choices: [32], low: 1, doc: batch size}
        """,
        "`low` must be absent for type 'choice' (list the values in `choices`), but got low=1 "
        "in {f}: search.batch_size",
    ),
    (
        "quniform_without_step",
        "emix",
        """
        search:
          dropout: {type: quniform, low: 0.0, high: 0.3, doc: dropout}
        """,
        "`step` must be given for type 'quniform', but got no `step` in {f}: search.dropout",
    ),
    (
        "step_on_log_scale",
        "emix",
        """
        search:
          lr: {type: loguniform, low: 1.0e-5, high: 1.0e-2, step: 1.0e-5, doc: peak learning rate}
        """,
        "`step` must be absent for type 'loguniform' (Optuna cannot step a log scale), but got step=1e-05 "
        "in {f}: search.lr",
    ),
    (
        "step_not_positive",
        "emix",
        """
        search:
          depth: {type: int, low: 2, high: 8, step: 0, doc: blocks}
        """,
        "`step > 0` must hold, but got step=0 in {f}: search.depth",
    ),
    (
        "bounds_off_the_step_grid",
        "emix",
        """
        search:
          dropout: {type: uniform, low: 0.05, high: 0.3, step: 0.1, doc: dropout}
        """,
        "`low` and `high` must be multiples of `step`, but got low=0.05, high=0.3, step=0.1 in {f}: search.dropout",
    ),
    (
        "float_type_for_int_field",
        "emix",
        """
        search:
          depth: {type: uniform, low: 2, high: 8, doc: blocks}
        """,
        "`type` must be 'int', 'logint' or 'choice' because `depth` takes int values, but got 'uniform' "
        "in {f}: search.depth",
    ),
    (
        "numeric_type_for_str_field",
        "mae",
        """
        search:
          mask_token: {type: int, low: 0, high: 1, doc: mask}
        """,
        "`type` must be 'choice' because `mask_token` takes str values, but got 'int' in {f}: search.mask_token",
    ),
    (
        "choice_of_wrong_type",
        "capri",
        """
        search:
          normalize: {type: choice, choices: [0, 1], doc: cosine logits}
        """,
        "every choice must be of type bool, but got 0 (int) in {f}: search.normalize",
    ),
    (
        "default_outside_range",
        "emix",
        """
        search:
          lr: {type: loguniform, low: 1.0e-5, high: 1.0e-2, default: 0.5, doc: peak learning rate}
        """,
        "`low <= default <= high` must hold, but got default=0.5, low=1e-05, high=0.01 in {f}: search.lr",
    ),
    (
        "default_not_a_choice",
        "emix",
        """
        search:
          batch_size: {type: choice, choices: [32, 64], default: 48, doc: batch size}
        """,
        "`default` must be one of `choices`, but got default=48, choices=[32, 64] in {f}: search.batch_size",
    ),
    (
        "default_off_the_step_grid",
        "emix",
        """
        search:
          max_steps: {type: int, low: 200, high: 600, step: 100, default: 250, doc: steps}
        """,
        "`default` must be a multiple of `step`, but got default=250, step=100 in {f}: search.max_steps",
    ),
    (
        "inherited_default_outside_range",
        "emix",
        """
        search:
          depth: {type: int, low: 6, high: 8, doc: blocks}
        """,
        "`low <= default <= high` must hold, but got default=4 (inherited from "
        "search_spaces/domains/digits.yaml; set `default:` here to change it), low=6, high=8 "
        "in {f}: search.depth",
    ),
    (
        "unknown_name_with_suggestion",
        "emix",
        """
        search:
          lrr: {type: loguniform, low: 1.0e-5, high: 1.0e-2, doc: peak learning rate}
        """,
        "parameter names must be fields of PretrainConfig, ModelConfig, the 'emix' objective's Config "
        "or TRIAL_KEYS, but got 'lrr' in {f}: search.lrr (did you mean 'lr'?)",
    ),
    (
        "reserved_name",
        "emix",
        """
        fixed:
          objective: mae
        """,
        "`objective` and `domain` must come from load_space's arguments, not a file, but got 'objective' "
        "in {f}: fixed.objective",
    ),
    (
        "fixed_and_searched_in_one_file",
        "emix",
        """
        fixed:
          lr: 1.0e-3
        search:
          lr: {type: loguniform, low: 1.0e-5, high: 1.0e-2, doc: peak learning rate}
        """,
        "a key must not be both fixed and searched in one layer, but got 'lr' in {f}: search.lr",
    ),
    (
        "fixed_value_wrong_type",
        "emix",
        """
        fixed:
          depth: 4.5
        """,
        "`depth` must be of type int, but got 4.5 (float) in {f}: fixed.depth",
    ),
    (
        "fixed_value_not_scalar",
        "emix",
        """
        fixed:
          lr: [1, 2]
        """,
        "a fixed value must be a number, string or bool, but got [1, 2] (list) in {f}: fixed.lr",
    ),
    (
        "entry_not_a_mapping",
        "emix",
        """
        search:
          lr: 0.001
        """,
        "a search entry must be a mapping with `type`, bounds or `choices`, and `doc`, but got 0.001 (float) "
        "in {f}: search.lr",
    ),
    (
        "block_not_a_mapping",
        "emix",
        """
        fixed: [lr]
        """,
        "`fixed:` must be a mapping of name -> value, but got ['lr'] (list) in {f}",
    ),
    (
        "file_not_a_mapping",
        "emix",
        """
        - lr
        """,
        "the file must hold a mapping with `fixed:` and/or `search:`, but got ['lr'] (list) in {f}",
    ),
    (
        "probe_path_searched",
        "emix",
        """
        search:
          l2_min: {type: loguniform, low: 1.0e-7, high: 1.0e-3, doc: weakest L2}
        """,
        "the probe's L2 path is chosen on validation in every evaluation and must not be searched "
        "(fix it under `fixed:` or with --set), but got 'l2_min' in {f}: search.l2_min",
    ),
    (
        "malformed_yaml",
        "emix",
        """
        search:
          lr: [1, 2
        """,
        "the file must be valid YAML, but got a parse error at line 3, column 1 "
        "(expected ',' or ']', but got '<stream end>') in {f}",
    ),
]


@pytest.mark.parametrize("objective,text,expected", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_file_fails_with_exact_message(tmp_path, objective, text, expected):
    path = tmp_path / "user.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    with pytest.raises(SearchSpaceError) as info:
        load_space(objective, "digits", extra_files=[str(path)])
    assert str(info.value) == expected.format(f=path)


def test_key_of_another_objective_lists_the_known_names(tmp_path):
    path = tmp_path / "user.yaml"
    path.write_text("fixed:\n  corruption_rate: 0.2\n")
    known = sorted(k for k in known_names("emix") if k not in ("objective", "domain"))
    with pytest.raises(SearchSpaceError) as info:
        load_space("emix", "digits", extra_files=[str(path)])
    assert str(info.value) == (
        "parameter names must be fields of PretrainConfig, ModelConfig, the 'emix' objective's Config or "
        f"TRIAL_KEYS, but got 'corruption_rate' in {path}: fixed.corruption_rate; known names: {known}"
    )
    assert "corruption_rate" not in known and "mix_alpha" in known
    load_space("shed", "digits", extra_files=[str(path)])  # the same file is fine for ShED


def test_unknown_objective():
    with pytest.raises(SearchSpaceError) as info:
        load_space("simclr", "digits")
    assert str(info.value) == (
        "unknown objective 'simclr'; choose from ['capri', 'emix', 'mae', 'none', 'shed', 'supervised']"
    )


def test_unknown_domain_lists_the_choices():
    with pytest.raises(SearchSpaceError) as info:
        load_space("emix", "mnist")
    choices = domain_names()
    assert {"captions", "digits", "sensor", "speech", "tabular", "tokens"} <= set(choices)
    assert str(info.value) == f"unknown domain 'mnist'; choose from {choices}"


def test_missing_extra_file():
    with pytest.raises(SearchSpaceError) as info:
        load_space("emix", "digits", extra_files=["nope.yaml"])
    assert str(info.value) == (
        "extra search space files must be an existing path or one of ['model_size', 'probe'], "
        "but got 'nope.yaml' (no such file)"
    )


def test_bad_overrides_name_the_overrides():
    with pytest.raises(SearchSpaceError) as info:
        load_space("emix", "digits", overrides={"lrr": 0.1})
    assert str(info.value) == (
        "parameter names must be fields of PretrainConfig, ModelConfig, the 'emix' objective's Config or "
        "TRIAL_KEYS, but got 'lrr' in overrides: lrr (did you mean 'lr'?)"
    )
    with pytest.raises(SearchSpaceError) as info:
        load_space("emix", "digits", overrides={"lr": {"type": "loguniform", "low": 0, "high": 1, "doc": "lr"}})
    assert str(info.value) == "`low > 0` must hold for type 'loguniform', but got low=0 in overrides: lr"


def test_default_is_required_when_nothing_earlier_sets_the_key():
    layer = parse_layer(
        {}, {"finetune_epochs": {"type": "int", "low": 4, "high": 16, "doc": "epochs"}}, "x.yaml", "emix"
    )
    with pytest.raises(SearchSpaceError) as info:
        merge([layer], "emix", "digits")
    assert str(info.value) == (
        "`default` must be given when no earlier layer sets the key, but got none in x.yaml: search.finetune_epochs"
    )


def test_errors_are_value_errors():
    assert issubclass(SearchSpaceError, ValueError)
