"""dabs_lib.settings_rules: the one owner of every setting's legal values."""

from __future__ import annotations

import dataclasses

import pytest

from dabs_lib.config import PretrainConfig, config_from_dict
from dabs_lib.model_config import ModelConfig
from dabs_lib.experiment import TrialSettings
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.settings_rules import RULES, SettingError, check_corners, check_range, check_relations, check_value


def _fields() -> dict[str, object]:
    out = {}
    for cls in [PretrainConfig, ModelConfig, TrialSettings] + [o.Config for o in OBJECTIVES.values()]:
        for f in dataclasses.fields(cls):
            out.setdefault(f.name, f.default if f.default is not dataclasses.MISSING else None)
    return out


def test_every_rule_names_a_real_setting_and_its_default_obeys_it():
    fields = _fields()
    for name, rule in RULES.items():
        assert name in fields, name
        assert rule.holds(fields[name]), (name, fields[name], rule.text())


def test_every_numeric_setting_has_a_rule():
    """A new int or float field must say its legal range here (or be listed as free)."""
    free = {
        "objective",
        "domain",
        "smoke_test",
        "data_root",
        "checkpoint",
        "study",
        "online_clean_forward",
        "final_norm",
        "mean_pool_cls",
        "normalize",
        "symmetric",
    }
    fields = _fields()
    missing = [
        n
        for n, v in fields.items()
        if n not in RULES and n not in free and isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    assert not missing, missing


@pytest.mark.parametrize(
    "name,value,text",
    [
        ("lr", 0.0, "`lr` must be > 0, but got 0.0"),
        ("dropout", 1.0, "`dropout` must be in [0, 1), but got 1.0"),
        ("corruption_rate", 0.0, "`corruption_rate` must be in (0, 1), but got 0.0"),
        ("pooling", "max", "`pooling` must be one of ['mean', 'cls'], but got 'max'"),
        ("max_steps", 0, "`max_steps` must be >= 1, but got 0"),
        ("lr", float("nan"), "`lr` must be > 0, but got nan"),
    ],
)
def test_a_value_outside_its_rule_says_the_rule_and_the_value(name, value, text):
    with pytest.raises(SettingError) as info:
        check_value(name, value, "--set")
    assert str(info.value) == f"{text} in --set"


def test_dataclasses_check_through_the_rules():
    with pytest.raises(ValueError, match="`depth` must be >= 1, but got 0 in cfg.yaml"):
        config_from_dict({"depth": 0}, "cfg.yaml")
    with pytest.raises(ValueError, match="`eval_every` must be >= 1"):
        TrialSettings(eval_every=0)


def test_relations_and_searched_corners():
    check_relations({"eval_every": 10, "max_steps": 10})
    with pytest.raises(SettingError, match="eval_every=20, max_steps=10"):
        check_relations({"eval_every": 20, "max_steps": 10})
    with pytest.raises(SettingError, match="batch_size=1"):
        check_relations({"objective": "emix", "batch_size": 1})
    check_relations({"objective": "shed", "batch_size": 1})
    fixed = {"eval_every": 50, "max_steps": 300, "objective": "emix", "batch_size": 0}
    check_corners(fixed, {"max_steps": [50, 300]})
    with pytest.raises(SettingError, match=r"max_steps=20 \(searched\)"):
        check_corners(fixed, {"max_steps": [20, 300]})
    with pytest.raises(SettingError, match="every searched value of `num_heads` must be >= 1"):
        check_range("num_heads", choices=[0, 2])
