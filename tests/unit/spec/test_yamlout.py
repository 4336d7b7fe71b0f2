"""YAML we write reads back as written by YAML 1.1 (PyYAML, like kubectl) and 1.2 (ruamel).

PyYAML is the YAML 1.1 reference here (test-time only: the product does not import it).
ruamel's own YAML 1.1 resolver adds the ``y``/``n`` booleans that go-yaml v2 (kubectl's
reader) honours and PyYAML leaves out.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

from lattice_pulumi.spec.yamlout import dump, dump_all, plain_is_string


def _words(text: str) -> list[str]:
    return text.split()


# Strings that some YAML reader resolves to something else when written plain.
TRICKY = [
    *_words("no yes on off y n Y N NO YES On Off ON OFF true True TRUE false False FALSE"),
    *_words("~ null Null NULL"),
    "",
    *_words("1e3 1E3 1e+3 1.5e-3 .5 +.5 -1. 1.0 6.8523015e+5 685.230_15e+03"),
    *_words("0755 012 0 -0 +12 09 08 0x1f 0X1F 0xDEAD_beef 0o17 0O17 0b1010 0B11 1_000"),
    *_words("12:30 190:20:30 -1:00 190:20:30.15 1:2"),
    *_words(".inf .Inf .INF -.inf +.inf .nan .NaN .NAN"),
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10 -5",
    "2001-12-15T02:59:43.1Z",
    "2002-1-2",
    "<<",
    "=",
    *_words("! & *"),  # tag:yaml.org,2002:yaml (hypothesis found "*")
]
# Of those, the ones only go-yaml v2 (kubectl) reads as non-strings: Go integer literals
# (strconv.ParseInt base 0) with an upper-case prefix, one-digit-month timestamps.
GO_ONLY = {"0O17", "0X1F", "0B11", "2002-1-2"}

# Strings every reader takes as strings: they must stay plain (no needless quotes).
PLAIN = [
    "nginx",
    "redis-server",
    "--appendonly",
    "v1.2.3",
    "1.2.3",
    "8080-http",
    "10.0.0.1",
    "ghcr.io/kube-vip/kube-vip:v0.9.2",
    "app.kubernetes.io/name",
    "noon",
    "yesterday",
    "Only",
    "nullable",
    "0x",
    "1e",
    "2001-12",
]

pyyaml_load = pyyaml.safe_load
ruamel_safe = YAML(typ="safe", pure=True)


def _ruamel_load_all(text: str) -> list[Any]:
    return list(ruamel_safe.load_all(text))


def _resolves_to_str(resolver: Any, text: str) -> bool:
    return str(resolver.resolve(ScalarNode, text, (True, False))) == "tag:yaml.org,2002:str"


def _pyyaml_reads_as_str(text: str) -> bool:
    tag = pyyaml.resolver.Resolver().resolve(pyyaml.ScalarNode, text, (True, False))
    return bool(tag == "tag:yaml.org,2002:str")


def _versioned(version: tuple[int, int]) -> VersionedResolver:
    resolver = VersionedResolver(version=version)
    resolver._loader_version = version  # the version asked for, not the loader's default
    return resolver


RUAMEL_11 = _versioned((1, 1))
RUAMEL_12 = _versioned((1, 2))


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_scalars_round_trip_as_strings(text: str) -> None:
    assert not plain_is_string(text)
    document = {"value": text, "list": [text], text: "as a key"}
    written = dump(document)
    assert pyyaml_load(written) == document
    assert _ruamel_load_all(written) == [document]
    assert f"value: {text}\n" not in written  # quoted, not plain


@pytest.mark.parametrize("text", TRICKY)
def test_every_tricky_scalar_is_not_a_string_to_some_reader(text: str) -> None:
    """The table is honest: each entry really is read as a non-string by a real resolver."""
    as_string = (
        _pyyaml_reads_as_str(text)
        and _resolves_to_str(RUAMEL_11, text)
        and _resolves_to_str(RUAMEL_12, text)
    )
    assert as_string == (text in GO_ONLY)


@pytest.mark.parametrize("text", PLAIN)
def test_ordinary_strings_stay_plain(text: str) -> None:
    assert plain_is_string(text)
    assert dump([text]) == f"- {text}\n"


def test_redis_args_are_quoted_in_a_manifest() -> None:
    container = {"name": "redis", "args": ["--save", "", "--appendonly", "no"]}
    written = dump_all([{"spec": {"containers": [container]}}])
    assert "- 'no'\n" in written
    assert pyyaml_load(written)["spec"]["containers"][0]["args"][3] == "no"


def test_multi_line_strings_as_literal_blocks_only_when_asked() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    assert "|\n" in dump({"ca.crt": pem}, literal_blocks=True)
    assert "|\n" not in dump({"ca.crt": pem})
    assert pyyaml_load(dump({"ca.crt": pem}, literal_blocks=True)) == {"ca.crt": pem}


def test_shared_objects_are_written_out_not_aliased() -> None:
    labels = {"app": "web"}
    written = dump({"selector": labels, "template": {"labels": labels}})
    assert "&" not in written and "*" not in written


# --- properties -------------------------------------------------------------------------

_TOKENS = st.sampled_from(TRICKY + PLAIN)
_NUMBERISH = st.from_regex(
    r"\A[-+]?(0[xXoObB])?[0-9_]{0,4}([.:][0-9_]{0,3})?([eE][-+]?[0-9]{1,2})?\Z", fullmatch=True
)
_TEXT = st.one_of(
    _TOKENS,
    _NUMBERISH,
    st.text(max_size=12),
    st.text(alphabet="yYnNoOtTfF~ul.-+0123456789:_eExX <=\n#'\"\t", max_size=8),
    st.builds(lambda a, b: f"{a}\n{b}\n", st.text(max_size=8), st.text(max_size=8)),
)
_FLOATS = st.floats(allow_nan=False)
_SCALARS = st.one_of(_TEXT, st.integers(), st.booleans(), st.none(), _FLOATS)
_MANIFESTS = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_TEXT, children, max_size=4)
    ),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equality that also tells -0.0 from 0, True from 1 and keeps types exact."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MANIFESTS, min_size=1, max_size=3), st.booleans())
def test_every_reader_loads_what_was_written(documents: list[Any], literal: bool) -> None:
    written = dump_all(documents, literal_blocks=literal)
    by_pyyaml = list(pyyaml.safe_load_all(written))
    by_ruamel = _ruamel_load_all(written)
    assert all(_same(d, p) for d, p in zip(documents, by_pyyaml, strict=True)), written
    assert all(_same(d, r) for d, r in zip(documents, by_ruamel, strict=True)), written


@settings(max_examples=1000, deadline=None)
@given(_TEXT)
def test_what_any_resolver_reads_as_a_non_string_gets_quoted(text: str) -> None:
    if plain_is_string(text):
        assert _pyyaml_reads_as_str(text)
        assert _resolves_to_str(RUAMEL_11, text)
        assert _resolves_to_str(RUAMEL_12, text)
