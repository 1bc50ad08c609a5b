"""Hypothesis strategies derived from the protocol models' annotations (shared by the fuzz tests)."""

from __future__ import annotations

import types
import typing
from typing import Any

import annotated_types as at
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from streamvoice.protocol.base import MAX_SAFE_INT, SAMPLE_RATES

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            out.update(_bounds(list(item.metadata)))
        elif isinstance(item, at.Ge):
            out["min"] = item.ge
        elif isinstance(item, at.Le):
            out["max"] = item.le
        elif isinstance(item, at.MinLen):
            out["min_len"] = item.min_length
        elif isinstance(item, at.MaxLen):
            out["max_len"] = item.max_length
        elif getattr(item, "pattern", None):
            out["pattern"] = item.pattern
    return out


def for_annotation(annotation: Any, metadata: list[Any], name: str = "") -> st.SearchStrategy[Any]:
    """A strategy producing valid Python values for a model field."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return for_annotation(args[0], [*metadata, *args[1:]], name)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(for_annotation(a, metadata, name) for a in args))
    if origin is typing.Literal:
        return st.sampled_from(args)
    b = _bounds(metadata)
    if annotation is type(None):
        return st.none()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        if name == "sample_rate":
            return st.sampled_from(SAMPLE_RATES)
        return st.integers(b.get("min", -(2**63)), b.get("max", MAX_SAFE_INT))
    if annotation is float:
        return st.floats(b.get("min"), b.get("max"), allow_nan=False, allow_infinity=False)
    if annotation is str:
        if "pattern" in b:
            return st.from_regex(b["pattern"], fullmatch=True)
        return st.text(st.characters(codec="utf-8"), min_size=b.get("min_len", 0), max_size=b.get("max_len", 40))
    if annotation is bytes:
        return st.binary(max_size=64)
    if origin is list:
        return st.lists(for_annotation(args[0], [], name), min_size=b.get("min_len", 0), max_size=b.get("max_len", 4))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_strategy(annotation)
    raise NotImplementedError(f"no strategy for {annotation!r}")


def model_strategy(cls: type[BaseModel]) -> st.SearchStrategy[Any]:
    """Instances of ``cls`` with optional fields sometimes left unset (so defaults are exercised)."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for fname, info in cls.model_fields.items():
        if fname == "type":
            continue
        strat = for_annotation(info.annotation, list(info.metadata), fname)
        (required if info.is_required() else optional)[fname] = strat
    return st.fixed_dictionaries(required, optional=optional).map(lambda kw: cls(**kw))


def msgpack_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Arbitrary msgpack-encodable values (no ext types)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(),
        TEXT,
        st.binary(max_size=16),
    )
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=max_leaves,
    )
