"""Every shipped YAML file loads, converts for Tune/Optuna, and yields configs dabs_lib accepts."""

from __future__ import annotations

import itertools

import optuna
import pytest
from ray.tune.search.optuna import OptunaSearch

from dabs_lib.config import config_from_dict
from dabs_lib.objectives import OBJECTIVES
from search_spaces import (
    TRIAL_KEYS,
    addon_files,
    available_spaces,
    default_config,
    default_point,
    domain_names,
    load_space,
    to_tune,
)
from search_spaces.loader import ROOT, read_yaml
from search_spaces.names import PROBE_PATH_KEYS

DOMAIN_FILES = sorted(p.stem for p in (ROOT / "domains").glob("*.yaml"))
EMBEDDED = ["captions", "digits", "sensor", "speech", "tabular", "tokens"]
PAIRS = list(itertools.product(sorted(OBJECTIVES), DOMAIN_FILES))
ADDON_SETS = [(), ("model_size",), ("probe",), ("model_size", "probe")]


def _dabs_config(flat: dict):
    """What the trainable hands dabs_lib: the flat config without the trial-level keys."""
    return config_from_dict({k: v for k, v in flat.items() if k not in TRIAL_KEYS}, source="test")


def test_every_embedded_domain_has_an_override_file():
    assert DOMAIN_FILES == EMBEDDED


def test_every_yaml_file_is_reachable_and_documented():
    reachable = {ROOT / "defaults.yaml"} | {ROOT / f"{name}.yaml" for name in OBJECTIVES}
    reachable |= {ROOT / "domains" / f"{d}.yaml" for d in DOMAIN_FILES} | set(addon_files().values())
    files = set(ROOT.glob("*.yaml")) | set((ROOT / "domains").glob("*.yaml"))
    assert files == reachable
    for path in files:
        doc = read_yaml(path, path.name).get("doc")
        assert isinstance(doc, str) and doc.strip() and "\n" not in doc.strip(), path


@pytest.mark.parametrize("objective,domain", PAIRS)
@pytest.mark.parametrize("extras", ADDON_SETS, ids="+".join)
def test_space_loads_and_default_lies_inside(objective, domain, extras):
    space = load_space(objective, domain, extra_files=list(extras))
    assert space.fixed["objective"] == objective and space.fixed["domain"] == domain
    assert not set(space.fixed) & set(space.search)
    point = default_point(space)
    assert list(point) == list(space.search)
    for name, spec in space.search.items():
        assert spec.contains(point[name]), (name, point[name], spec)
    config = _dabs_config(default_config(space))
    assert config.objective == objective and config.domain == domain
    param_space = to_tune(space)
    assert set(param_space) == set(space.fixed) | set(space.search)


@pytest.mark.parametrize("objective,domain", PAIRS)
def test_shipped_spaces_are_small_for_cpu_runs(objective, domain):
    config = _dabs_config(default_config(load_space(objective, domain)))
    assert (config.model.embed_dim, config.model.depth, config.model.num_heads, config.model.mlp_dim) == (64, 4, 4, 128)
    assert 100 <= config.max_steps <= 1000


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_tune_samples_are_valid_dabs_configs(objective):
    """Random points of the widest space (with the model-size add-on) build a PretrainConfig."""
    space = load_space(objective, "digits", extra_files=["model_size", "probe"])
    param_space = to_tune(space)
    for seed in range(5):
        point = {
            name: (value.sample(random_state=seed * 100 + i) if name in space.search else value)
            for i, (name, value) in enumerate(param_space.items())
        }
        for name, spec in space.search.items():
            assert spec.contains(point[name]), (name, point[name])
        _dabs_config(point)


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_optuna_converts_the_space_and_starts_at_the_default(objective):
    space = load_space(objective, "tabular", extra_files=["model_size", "probe"])
    param_space = to_tune(space)
    distributions = OptunaSearch.convert_search_space(param_space)
    assert set(distributions) == set(space.search)
    for name, spec in space.search.items():
        dist = distributions[name]
        if spec.type == "choice":
            assert list(dist.choices) == list(spec.choices)
        else:  # inclusive bounds survive Tune's exclusive randint upper bound
            assert (dist.low, dist.high, dist.log) == (spec.low, spec.high, spec.type.startswith("log"))
    searcher = OptunaSearch(
        metric="score",
        mode="max",
        points_to_evaluate=[default_point(space)],
        sampler=optuna.samplers.TPESampler(seed=0),
    )
    assert searcher.set_search_properties("score", "max", param_space)
    assert searcher.suggest("trial_0") == default_point(space)
    second = searcher.suggest("trial_1")
    assert all(space.search[name].contains(value) for name, value in second.items())


def test_domain_files_name_registered_domains():
    try:
        from dabs_lib.domains import DOMAINS as domains
    except ImportError:
        pytest.skip("dabs_lib.domains has no DOMAINS registry yet")
    assert set(DOMAIN_FILES) <= set(domains)
    assert set(domain_names()) == set(domains) | set(DOMAIN_FILES)


def test_available_spaces_lists_objectives_domains_and_addons():
    listing = available_spaces()
    assert sorted(listing["objectives"]) == sorted(OBJECTIVES)
    assert sorted(listing["domains"]) == EMBEDDED
    assert sorted(listing["addons"]) == ["model_size", "probe"]
    assert listing["objectives"]["emix"].startswith("e-Mix")


def test_baselines_search_nothing_of_their_own():
    """none/supervised files hold fixed blocks only: their searched keys are the shared ones."""
    shared = set(load_space("none", "digits").search)
    for baseline in ("none", "supervised"):
        assert read_yaml(ROOT / f"{baseline}.yaml", baseline).get("search") is None
        assert set(load_space(baseline, "digits").search) == shared
    assert set(load_space("emix", "digits").search) == shared | {"mix_alpha", "temperature"}


def test_model_size_choices_always_divide():
    space = load_space("emix", "digits", extra_files=["model_size"])
    for dim, heads in itertools.product(space.search["embed_dim"].choices, space.search["num_heads"].choices):
        assert dim % heads == 0


SHIPPED = sorted(ROOT.glob("*.yaml")) + sorted((ROOT / "domains").glob("*.yaml"))
# What changes pretraining, per objective: the shared optimizer knobs plus the objective's own.
PRETRAINING_KNOBS = {"lr", "weight_decay", "warmup_steps", "batch_size"}
OBJECTIVE_KNOBS = {
    "capri": {"corruption_rate", "temperature", "normalize", "symmetric", "mask_token"},
    "emix": {"mix_alpha", "temperature"},
    "mae": {"corruption_rate", "mask_token"},
    "shed": {"corruption_rate"},
}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_shipped_file_searches_the_probe_path(path):
    """Read as raw YAML, not through the loader (which refuses them too): the registry itself is clean."""
    searched = set(read_yaml(path, path.name).get("search") or {})
    assert not searched & set(PROBE_PATH_KEYS), f"{path.name} searches {sorted(searched & set(PROBE_PATH_KEYS))}"


@pytest.mark.parametrize("objective,domain", PAIRS)
def test_searched_dimensions_are_pretraining_knobs(objective, domain):
    """Without add-ons a space searches exactly the optimizer and the objective's own knobs:
    no probe-path bounds, no model size (opt-in: model_size), no budget (max_steps is fixed)."""
    searched = set(load_space(objective, domain).search)
    assert searched == PRETRAINING_KNOBS | OBJECTIVE_KNOBS.get(objective, set())
    with_size = set(load_space(objective, domain, extra_files=["model_size"]).search)
    assert with_size - searched >= {"embed_dim", "depth", "num_heads", "mlp_dim"}


def test_the_probe_path_default_has_one_owner():
    """The trial settings take the path from ProbeProtocol; no shipped space sets it."""
    from dabs_lib.experiment import TrialSettings
    from dabs_lib.transfer import ProbeProtocol

    protocol, settings = ProbeProtocol(), TrialSettings()
    assert (settings.l2_min, settings.l2_max, settings.l2_steps) == (
        protocol.l2_min,
        protocol.l2_max,
        protocol.l2_steps,
    )
    for path in SHIPPED:
        data = read_yaml(path, path.name)
        assert not set(data.get("fixed") or {}) & set(PROBE_PATH_KEYS), path.name
    space = load_space("emix", "digits", extra_files=["model_size", "probe"])
    assert not (set(space.fixed) | set(space.search)) & set(PROBE_PATH_KEYS)


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.yaml")), ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_reads_every_shipped_file_as_the_pure_python_loader_does(path):
    """The spaces are parsed by libyaml's CSafeLoader when PyYAML has it (the fast path of every
    search and resume); it must give exactly what yaml.safe_load gives."""
    import yaml

    from search_spaces.loader import _safe_load

    text = path.read_text()
    assert _safe_load(text) == yaml.safe_load(text)
    if hasattr(yaml, "CSafeLoader"):
        assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text)  # guard-ok: the safe loader in C
