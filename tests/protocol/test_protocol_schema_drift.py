"""The committed schema and vectors must match what the code generates."""

from __future__ import annotations

import json

import pytest

from streamvoice.protocol import CLIENT_TYPES, SERVER_TYPES
from streamvoice.protocol.gen import SPEC_DIR, build_schemas, generated_files, main

FIX = "run `python -m streamvoice.protocol.gen` and commit the result"


@pytest.mark.parametrize("path", sorted(generated_files()), ids=lambda p: p.name)
def test_generated_file_is_up_to_date(path) -> None:  # type: ignore[no-untyped-def]
    expected = generated_files()[path]
    assert path.exists(), f"{path} is missing; {FIX}"
    assert path.read_text(encoding="utf-8") == expected, f"{path.name} drifted from the models; {FIX}"


def test_check_mode_reports_no_drift(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check"]) == 0
    assert capsys.readouterr().out == ""


def test_schemas_name_every_message_type() -> None:
    schemas = build_schemas()
    for name, types in (("client.schema.json", CLIENT_TYPES), ("server.schema.json", SERVER_TYPES)):
        text = json.dumps(schemas[name])
        for type_name in types:
            assert f'"const": "{type_name}"' in text, type_name
    assert (SPEC_DIR / "PROTOCOL.md").exists()


def test_spec_documents_every_type_field_error_and_close_code() -> None:
    from pydantic import BaseModel

    from streamvoice.protocol import CloseCode, ErrorCode

    spec = (SPEC_DIR / "PROTOCOL.md").read_text(encoding="utf-8")
    missing: list[str] = []

    def walk(cls: type[BaseModel]) -> None:
        for name, info in cls.model_fields.items():
            if f"`{name}`" not in spec:
                missing.append(f"{cls.__name__}.{name}")
            for arg in getattr(info.annotation, "__args__", ()) or (info.annotation,):
                inner = getattr(arg, "__args__", (arg,))[0] if hasattr(arg, "__args__") else arg
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    walk(inner)

    for registry in (CLIENT_TYPES, SERVER_TYPES):
        for type_name, cls in registry.items():
            if f"`{type_name}`" not in spec:
                missing.append(type_name)
            walk(cls)
    missing += [code.value for code in ErrorCode if f"`{code.value}`" not in spec]
    missing += [str(code.value) for code in CloseCode if f"| {code.value} |" not in spec]
    assert not missing, f"PROTOCOL.md does not document: {missing}"
