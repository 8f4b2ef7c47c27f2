"""The domain file schema: typed, defaults filled, unknown keys and bad values refused naming file and key."""

from __future__ import annotations

import pickle

import pytest

from dabs_lib.userdomain import DomainFileError, domain_file_for, load_domain_file
from dabs_lib.userdomain.rows import DomainDataError
from dabs_lib.userdomain.schema import INPUT_KINDS, InputDecl
from tests.dabs_lib.userdomain import files


def test_a_domain_file_loads_typed_with_defaults(tmp_path):
    path = files.write("multi", tmp_path)
    domain = load_domain_file(path)
    assert domain.name == "captioned" and domain.path == path.resolve()
    assert [d.kind for d in domain.inputs] == ["image", "text"]
    assert domain.inputs[0] == InputDecl(name="image", kind="image", channels=1, patch_size=4)
    assert domain.inputs[1].tokenizer == "wordpiece" and domain.inputs[1].seq_len == 8
    assert domain.data.kind == "table" and domain.data.path == (tmp_path / "captions.csv").resolve()
    assert domain.split.column == "split" and domain.tasks[0].kind == "binary"


def test_name_defaults_to_the_file_name(tmp_path):
    path = files.write("tabular", tmp_path)
    text = path.read_text().replace("name: measurements\n", "")
    (tmp_path / "My-Lab.yaml").write_text(text)
    assert load_domain_file(tmp_path / "My-Lab.yaml").name == "my_lab"


@pytest.mark.parametrize("kind", ["imag", "video", "Image"])
def test_an_unknown_input_kind_names_file_key_and_choices(kind, tmp_path):
    path = files.write("image", tmp_path)
    path.write_text(path.read_text().replace("kind: image", f"kind: {kind}"))
    with pytest.raises(DomainFileError) as error:
        load_domain_file(path)
    assert str(error.value) == (
        f"inputs[0].kind must be one of {list(INPUT_KINDS)}, but got {kind!r} in {path.resolve()}"
    )


def test_errors_survive_pickling(tmp_path):
    error = DomainDataError(tmp_path / "a.csv row 3", "column 'x' is empty")
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) and isinstance(copy, DomainDataError)
    assert str(pickle.loads(pickle.dumps(DomainFileError("x must hold")))) == "x must hold"


def test_a_domain_is_found_by_name_in_the_domains_dir(tmp_path, monkeypatch):
    path = files.write("tabular", tmp_path / "mine")
    monkeypatch.setenv("DABS_DOMAINS_DIR", str(tmp_path / "mine"))
    assert domain_file_for("measurements") == path.resolve()
    assert domain_file_for("digits") is None  # a built-in name is the built-in domain
    assert domain_file_for("nothere") is None
    monkeypatch.delenv("DABS_DOMAINS_DIR")
    assert domain_file_for("measurements") is None
