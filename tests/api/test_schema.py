"""The schema at `/api/schema/` is a contract a client can be generated from: valid, every error declared
with the codes the application answers, every POST's `Idempotency-Key`, and no untyped object."""

import ast
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from ewtp.openapi import DOMAIN_ERROR_CODES

# Codes of business rules that only the officer console, the portal or a management command meets.
NOT_ANSWERED_BY_THE_API = {
    "already_in_force": "rule sets (console)",
    "already_published": "rule sets (console)",
    "not_a_draft": "rule sets (console)",
    "effective_date_taken": "rule sets (console)",
    "effective_in_past": "rule sets (console)",
    "missing_parameters": "rule sets (console)",
    "parameter_not_used": "rule sets (console)",
    "no_default_rate": "rule sets (console)",
    "invalid_rate": "rule sets and FX rates (console)",
    "same_currency": "FX rates (console)",
    "invalid_date": "FX rates (console)",
    "fx_file_malformed": "manage.py fx_load",
    "expiry_in_past": "API keys (portal)",
    "invalid_email": "team members (portal)",
    "invalid_role": "team members (portal)",
    "invalid_username": "team members (portal)",
    "username_taken": "team members (portal)",
    "unbalanced": "the ledger (payments services; no API yet)",
    "invalid": "the ledger (payments services; no API yet)",
    "invalid_amount": "the ledger (payments services; no API yet)",
    "too_many_decimals": "the ledger (payments services; no API yet)",
    "ledger_key_reused": "the ledger (payments services; no API yet)",
    "not_refundable": "refunds (payments services and tasks; no API yet)",
    "bad_signature": "webhooks (the payment provider's, outside the partners' API)",
    "stale_signature": "webhooks (the payment provider's, outside the partners' API)",
    "unknown_charge": "webhooks (the payment provider's, outside the partners' API)",
    "unknown_waybill": "webhooks (the carrier's, outside the partners' API)",
    "parcel_too_large": "parcels (received by hub officers; no API yet)",
    "cut_off_passed": "departures (scheduled by hub supervisors; no API yet)",
    "before_cut_off": "departures (closed by beat at their cut-off)",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    call_command("spectacular", file=str(path), format="openapi-json", validate=True, fail_on_warn=True)
    return json.loads(path.read_text())


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def error_codes(schema, response):
    body = resolve(schema, response["content"]["application/json"]["schema"])
    error = resolve(schema, body["properties"]["errors"]["items"])
    return set(resolve(schema, error["properties"]["code"])["enum"])


def domain_error_codes_raised():
    """Every `DomainError(..., code="...")` written in the services, selectors and the kernel."""
    codes = set()
    for app in ("hubs", "trade", "payments", "logistics"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                called = getattr(node, "func", None)
                if getattr(called, "id", getattr(called, "attr", None)) != "DomainError":
                    continue
                codes |= {k.value.value for k in node.keywords if k.arg == "code" and isinstance(k.value, ast.Constant)}
    return codes


def test_every_business_rule_code_is_declared_by_an_operation_or_named_as_none_of_the_apis():
    declared = set().union(*DOMAIN_ERROR_CODES.values())
    assert domain_error_codes_raised() - declared - set(NOT_ANSWERED_BY_THE_API) == set()
    assert declared & set(NOT_ANSWERED_BY_THE_API) == set()


def test_every_operation_declares_its_errors_in_one_shape(schema):
    for name, operation in operations(schema):
        responses = operation["responses"]
        expected = {"400", "401", "406", "413", "429", "500"}
        if operation.get("requestBody") or name.startswith(("POST", "PUT", "PATCH")):
            expected |= {"403", "415"}
        if name.startswith("POST"):
            expected |= {"409", "422"}
        assert expected <= set(responses), name
        for status, response in responses.items():
            if status >= "400":
                assert error_codes(schema, response), (name, status)
        assert "Retry-After" in responses["429"]["headers"], name
        assert {"malformed_api_key", "invalid_api_key", "not_authenticated"} <= error_codes(schema, responses["401"])
        assert {"null_character", "invalid_content_length"} <= error_codes(schema, responses["400"]), name
        operation_id = operation["operationId"]
        assert set(DOMAIN_ERROR_CODES.get(operation_id, ())) <= error_codes(schema, responses["400"]), name


def test_the_idempotency_answers_are_declared_on_every_post(schema):
    for name, operation in operations(schema):
        if not name.startswith("POST"):
            continue
        (key,) = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        assert key["schema"]["maxLength"] == 200, name
        assert error_codes(schema, operation["responses"]["409"]) == {"idempotency_key_in_use"}
        assert error_codes(schema, operation["responses"]["422"]) == {"idempotency_key_reused"}
        success = next(response for status, response in operation["responses"].items() if status < "300")
        assert "Idempotent-Replayed" in success["headers"], name


def test_no_answer_holds_an_untyped_object(schema):
    """Taxes, sellability, timelines, rule sets...: every object of an answer says what it holds."""

    def walk(node, where):
        node = resolve(schema, node)
        if node.get("type") == "object" and "properties" not in node:
            raise AssertionError(f"an untyped object at {where}")
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.{name}")
        for key in ("items", "allOf", "oneOf", "anyOf"):
            for child in node[key] if isinstance(node.get(key), list) else [node[key]] if key in node else []:
                walk(child, where)

    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            for content in response.get("content", {}).values():
                walk(content["schema"], f"{name} {status}")


def test_nullable_and_read_only_fields_are_marked(schema):
    components = schema["components"]["schemas"]
    membership = components["Membership"]["properties"]
    assert membership["company"]["nullable"]
    assert membership["hub"]["nullable"]
    assert components["Export"]["properties"]["refund"]["nullable"]
    assert "id" not in components["ListingCreateRequest"]["properties"]
    assert "sellable" not in components["PatchedListingRequest"]["properties"]
    assert "id_number_masked" not in components["BuyerRequest"]["properties"]
    assert "id_number" not in components["Buyer"]["properties"]
    email = components["Buyer"]["properties"]["email"]
    assert {"type": "string", "maxLength": 0} in email["oneOf"], "an email left out reads as empty"
