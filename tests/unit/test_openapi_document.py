"""The OpenAPI document's schemas of FC's models are the pydantic models' own (no Docker): they cannot drift."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.api.app import create_app
from emulator.api.openapi_document import (
    FC_ONLY_FIELDS,
    MANIFEST_ONLY,
    MODELS,
    REF_TEMPLATE,
    FCJsonSchema,
)
from emulator.catalog.manifest import IGNORED_FC_FIELDS, FunctionManifest

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def document() -> Schema:
    # What /_fcemu/openapi.json answers: FastAPI's route serves app.openapi().
    served: Schema = json.loads(json.dumps(create_app().openapi()))
    return served


def _generated(model: Any) -> Schema:
    schema: Schema = model.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=FCJsonSchema)
    return schema


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_model_of_fc_is_served_as_its_pydantic_model_generates_it(document: Schema, name: str) -> None:
    components = document["components"]["schemas"]
    generated = _generated(MODELS[name])
    for nested, schema in generated.pop("$defs", {}).items():
        assert components[nested] == schema
    assert components[name] == generated


@pytest.mark.parametrize("name", ["CreateFunctionInput", "UpdateFunctionInput", "CreateFunctionRequest",
                                  "UpdateFunctionRequest"])
def test_a_function_body_holds_the_manifest_fields_as_the_manifest_generates_them(document: Schema, name: str
                                                                                 ) -> None:
    served = document["components"]["schemas"][name]["properties"]
    manifest = _generated(FunctionManifest)
    for field, schema in manifest["properties"].items():
        if field not in MANIFEST_ONLY and (field != "functionName" or name.startswith("Create")):
            assert served[field] == schema, field
    if name.startswith("Create"):
        assert document["components"]["schemas"][name]["required"] == manifest["required"]


def test_the_fc_fields_written_by_hand_are_ones_the_manifest_takes() -> None:
    assert set(FC_ONLY_FIELDS) <= IGNORED_FC_FIELDS
    assert not set(FC_ONLY_FIELDS) & set(FunctionManifest.model_fields)
    assert set(MANIFEST_ONLY) <= set(FunctionManifest.model_fields)


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def test_every_reference_resolves(document: Schema) -> None:
    components = document["components"]["schemas"]
    missing = {ref for ref in _refs(document) if ref.rsplit("/", 1)[1] not in components}
    assert missing == set(), json.dumps(sorted(missing))
