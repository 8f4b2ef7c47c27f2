"""Search spaces as data: YAML files per objective and per domain, validated into a
typed SearchSpace and converted to Tune/Optuna objects.

    space = load_space("emix", "digits", extra_files=["model_size"], overrides={"lr": 3e-4})
    Tuner(trainable, param_space=to_tune(space),
          tune_config=TuneConfig(search_alg=OptunaSearch(points_to_evaluate=[default_point(space)], ...)))
"""

from search_spaces.catalog import absolute_extra, addon_files, available_spaces, domain_names, load_space
from search_spaces.convert import default_config, default_point, describe, to_tune
from search_spaces.names import TRIAL_KEYS
from search_spaces.params import PARAM_TYPES, ParamSpec, SearchSpace, SearchSpaceError

__all__ = [
    "PARAM_TYPES",
    "TRIAL_KEYS",
    "ParamSpec",
    "SearchSpace",
    "SearchSpaceError",
    "absolute_extra",
    "addon_files",
    "available_spaces",
    "default_config",
    "default_point",
    "describe",
    "domain_names",
    "load_space",
    "to_tune",
]
