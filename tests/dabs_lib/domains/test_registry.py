"""The domain registry: keys, builder signature, per-process cache, unknown names."""

from __future__ import annotations

import inspect
import re

import pytest

from dabs_lib.domains import DOMAINS, EMBEDDED_DOMAINS, get_domain


def test_embedded_domains_are_the_six_expected_and_registered():
    assert sorted(EMBEDDED_DOMAINS) == ["captions", "digits", "sensor", "speech", "tabular", "tokens"]
    for name, build in EMBEDDED_DOMAINS.items():
        assert DOMAINS[name] is build


@pytest.mark.parametrize("name", sorted(EMBEDDED_DOMAINS))
def test_key_is_the_module_name_and_builder_has_the_shared_signature(name):
    build = EMBEDDED_DOMAINS[name]
    assert build.__module__ == f"dabs_lib.domains.{name}"
    params = inspect.signature(build).parameters
    assert {k: p.default for k, p in params.items()} == {"seed": 42, "data_root": "", "smoke": False}


def test_get_domain_builds_once_per_argument_set():
    first = get_domain("tokens", smoke=True)
    assert get_domain("tokens", 42, "", True) is first  # positional and keyword calls share the cache
    assert get_domain("tokens", seed=42, data_root="", smoke=True) is first
    other = get_domain("tokens", seed=43, smoke=True)
    assert other is not first
    assert other.pretrain.fingerprint != first.pretrain.fingerprint


def test_unknown_domain_names_the_choices():
    with pytest.raises(KeyError) as info:
        get_domain("nope")
    message = info.value.args[0]
    assert message.startswith("unknown domain 'nope'; choose from [")
    listed = re.findall(r"'(\w+)'", message.split("choose from", 1)[1])
    assert listed == sorted(DOMAINS)


def test_negative_seed_is_refused_with_the_value():
    with pytest.raises(ValueError, match="non-negative int, but got seed=-1"):
        EMBEDDED_DOMAINS["tokens"](seed=-1, smoke=True)


def test_the_torch_free_domain_names_are_the_registrys_keys():
    """dabs_lib.domain_names owns the built-in names the search driver and the CLI check against
    (without torch); the registry is made from them."""
    from dabs_lib.domain_names import EMBEDDED_DOMAIN_NAMES, builtin_domain_names

    assert list(EMBEDDED_DOMAINS) == list(EMBEDDED_DOMAIN_NAMES)
    assert sorted(builtin_domain_names()) == sorted(DOMAINS)
