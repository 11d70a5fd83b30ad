"""Lints the API description file, web/api/openapi.json: the one source the portal serves at
/api/v1/openapi.json, schemathesis fuzzes against, and the Swift tests compare with the router.

- It is a valid OpenAPI 3.1 document, every `$ref` resolved (openapi-spec-validator).
- No object repeats a key: a JSON parser keeps the last copy without a word, so a repeated path
  or status would silently drop an operation or an answer.
- It is written as `python3 -m json.tool --indent 2 --no-ensure-ascii` writes it, so that every
  change is a small, readable diff.
- The running portal serves exactly these bytes.
"""
from __future__ import annotations

import copy
import json
import pathlib
import urllib.request

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

DESCRIPTION = pathlib.Path(__file__).resolve().parents[3] / "web" / "api" / "openapi.json"


def refuse_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    assert not repeated, f"{DESCRIPTION.name} repeats the key(s) {repeated} in one object"
    return dict(pairs)


@pytest.fixture(scope="module")
def text() -> str:
    return DESCRIPTION.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def document(text) -> dict:
    return json.loads(text, object_pairs_hook=refuse_repeated_keys)


def lint_errors(document: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.path)) or '(top)'}: {error.message}"
            for error in OpenAPIV31SpecValidator(document).iter_errors()]


def test_description_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    errors = lint_errors(document)
    assert not errors, "\n".join(errors[:20])


def test_linter_rejects_a_broken_description(document):
    """The lint above can fail: an answer without its required description, and a `$ref` to
    nothing, are both reported."""
    broken = copy.deepcopy(document)
    del broken["paths"]["/health"]["get"]["responses"]["200"]["description"]
    assert any("description" in error for error in lint_errors(broken))
    dangling = copy.deepcopy(document)
    dangling["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] = {
        "$ref": "#/components/schemas/NoSuchSchema"}
    with pytest.raises(Exception, match="NoSuchSchema"):
        lint_errors(dangling)


def test_description_is_pretty_printed(text, document):
    assert text == json.dumps(document, indent=2, ensure_ascii=False) + "\n", (
        f"reformat {DESCRIPTION.relative_to(DESCRIPTION.parents[2])}: "
        "python3 -m json.tool --indent 2 --no-ensure-ascii FILE > NEW && mv NEW FILE")


def test_portal_serves_the_file(portal_url):
    """What schemathesis loads from the portal is this file, byte for byte."""
    with urllib.request.urlopen(portal_url + "/api/v1/openapi.json", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        served = response.read()
    assert served == DESCRIPTION.read_bytes(), "the portal serves another description than web/api/openapi.json"
