"""The API's contract as `/api/schema/` states it, beyond what the serializers say.

Every operation declares the errors it can answer, each with the one error shape
`{"type": ..., "errors": [{"code", "detail", "attr"}]}` and the enum of its codes:

- 400: the codes of its input's fields (request body, filters, query parameters), of a body that is
  not JSON (`parse_error`), of the `Idempotency-Key` header, and of the business rules it applies
  (`DomainError`), listed below in `DOMAIN_ERROR_CODES`, the one place to keep in step with the services;
- 401, 403, 404, 406, 415, 429, 500 where they can happen, 409 and 422 for the `Idempotency-Key`
  of every POST, 413 for a body over the size limit.

Every POST declares the `Idempotency-Key` header, and its success answer the `Idempotent-Replayed`
header of a replay. A client generated from the schema therefore knows every answer it can get.
"""

import re

from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_serializer
from drf_spectacular.utils import OpenApiParameter
from drf_standardized_errors.openapi_utils import (
    get_django_filter_backends,
    get_filter_forms,
    get_flat_serializer_fields,
    get_form_fields_with_error_codes,
    get_serializer_fields_with_error_codes,
)
from inflection import camelize
from rest_framework.pagination import CursorPagination, PageNumberPagination

from hubs.kernel.idempotency import HEADER as IDEMPOTENCY_KEY_HEADER
from hubs.tariff import Admissibility

BODY_METHODS = ("POST", "PUT", "PATCH")

# --- the business rules' codes, per operation --------------------------------------------------------

_HS_CODE = {"hs_code_malformed", "hs_code_unknown"}
_FX = {"unknown_currency", "fx_unavailable", "fx_stale"}
_LISTING_FIELDS = {
    *_HS_CODE,
    "wrong_currency",
    "invalid_price",
    "invalid_measure",
    "invalid_stock",
    "invalid_status",
    "unknown_field",
}
_TARIFF = {
    "empty_basket",
    "invalid_quantity",
    "invalid_price",
    "invalid_measure",
    "invalid_freight",
    "invalid_insurance",
    *(verdict.value for verdict in Admissibility if verdict != Admissibility.ALLOWED),
    "no_rate",
    "over_order_limit",
    "wrong_currency",
    "not_offered",
    "over_declaration_cap",
}

# The codes of `DomainError` each operation can answer (400, type `validation_error`), by operationId.
# A code added to a service an operation calls belongs here too (tests/api/test_schema.py checks that
# every code the services raise is listed, or named there as one the API never answers).
DOMAIN_ERROR_CODES = {
    "v1_fx_rates_retrieve": {"unknown_currency", "fx_unavailable"},
    "v1_hs_codes_validate_retrieve": _HS_CODE,
    "v1_listings_create": {"company", *_LISTING_FIELDS},
    "v1_listings_update": {"archived", "stock_read_only", *_LISTING_FIELDS},
    "v1_listings_partial_update": {"archived", "stock_read_only", *_LISTING_FIELDS},
    "v1_listings_archive_create": {"archived"},
    "v1_listings_restock_create": {"archived", "invalid_delta", "insufficient_stock", "invalid_stock"},
    "v1_quotes_create": {
        "company",
        "not_found",
        "domestic_route",
        "no_rules",
        "required",
        "listing_unavailable",
        "wrong_origin",
        "amount_too_large",
        "amount_out_of_range",
        *_HS_CODE,
        *_FX,
        *_TARIFF,
    },
    "v1_orders_create": {
        "not_found",
        "company_unverified",
        "quote_used",
        "quote_expired",
        "estimate_only",
        "annual_limit_reached",
        "required",
        "consumer_mismatch",
        "buyer_country_mismatch",
        "out_of_stock",
    },
    "v1_orders_cancel_create": {"invalid_transition"},
    "v1_payments_create": {"not_found", "not_payable", "payment_in_progress"},
    "v1_rates_retrieve": {"unknown_route", "invalid_parcel"},
    "v1_shipments_label_retrieve": {"not_booked"},
    "v1_shipments_packing_list_retrieve": {"not_booked"},
    "v1_webhook_endpoints_create": {"company", "invalid_webhook_url", "private_webhook_url", "unknown_event_type"},
    "v1_webhook_endpoints_deactivate_create": {"invalid_transition"},
    "v1_webhook_endpoints_test_create": {"endpoint_inactive"},
    "v1_webhook_endpoints_rotate_secret_create": {"endpoint_inactive"},
    "v1_webhook_deliveries_retry_create": {"not_retryable", "endpoint_inactive"},
}

# Validators that are plain functions carry no code DRF can read; the codes they raise.
VALIDATOR_CODES = {"validate_amount": {"amount_out_of_range"}}

# The 400s (type `client_error`) the HTTP edge answers before any view (`ewtp.middleware`).
EDGE_BAD_REQUEST = {"null_character", "invalid_content_length"}

# --- the errors every operation shares ----------------------------------------------------------------

# status: (the error type, the codes, what it means)
SHARED_ERRORS = {
    "401": (
        "client_error",
        [
            "not_authenticated",
            "authentication_failed",
            "malformed_api_key",
            "invalid_api_key",
            "expired_api_key",
            "inactive_integrator",
        ],
        "No credentials, or an API key that is malformed, unknown, revoked or expired "
        "(the `WWW-Authenticate` header says `Api-Key`).",
    ),
    "403": (
        "client_error",
        ["permission_denied"],
        "The actor's role may not do this, or a session's CSRF token is missing.",
    ),
    "404": ("client_error", ["not_found"], "No such object among those the actor may see, or no such page."),
    "406": ("client_error", ["not_acceptable"], "The `Accept` header asks for something other than JSON."),
    "409": (
        "client_error",
        ["idempotency_key_in_use"],
        "A request with this `Idempotency-Key` is still being processed: retry in a moment.",
    ),
    "413": ("client_error", ["request_too_large"], "The request body is over the size limit."),
    "415": ("client_error", ["unsupported_media_type"], "The body is not `application/json`."),
    "422": (
        "client_error",
        ["idempotency_key_reused"],
        "This `Idempotency-Key` was sent before with a different request: use a new key for a new request.",
    ),
    "429": ("client_error", ["throttled"], "Too many requests: retry after the `Retry-After` header's seconds."),
    "500": ("server_error", ["error"], "A server error occurred."),
}

ERROR_HEADERS = {
    "401": {
        "WWW-Authenticate": {
            "schema": {"type": "string", "enum": ["Api-Key"]},
            "required": True,
            "description": "The scheme to authenticate with.",
        }
    },
    "429": {
        "Retry-After": {"schema": {"type": "integer", "minimum": 0}, "description": "Seconds to wait before retrying."}
    },
}
IDEMPOTENT_REPLAYED = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present on the replay of a request sent before with the same `Idempotency-Key`: "
        "the first answer, again.",
    }
}
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
    OpenApiParameter.HEADER,
    description="Any unique string (a UUID): a request repeated with the same key within 24 hours is answered "
    "with the first answer (`Idempotent-Replayed: true`) and writes nothing.",
)
ATTR_DESCRIPTION = (
    "The input at fault as a dotted path (`lines.0.unit_price.amount`, `buyer.id_number`), or the header's "
    "name; null when it is the request as a whole."
)


def _error_components(name, error_type, codes):
    """The schema components of one error answer: `{name}` holds `errors`, a list of `{name}Error`
    whose `code` is one of `{name}CodeEnum`."""
    types = error_type if isinstance(error_type, list) else [error_type]
    type_enum = {
        "ClientError": ["client_error"],
        "ServerError": ["server_error"],
        "ValidationError": ["validation_error"],
    }
    type_name = next((n for n, values in type_enum.items() if values == types), "BadRequestType")
    return [
        ResolvedComponent(
            name=f"{type_name}Enum",
            type=ResolvedComponent.SCHEMA,
            schema={"type": "string", "enum": types},
            object=f"{type_name}Enum",
        ),
        ResolvedComponent(
            name=f"{name}CodeEnum",
            type=ResolvedComponent.SCHEMA,
            schema={"type": "string", "enum": sorted(codes)},
            object=f"{name}CodeEnum",
        ),
        ResolvedComponent(
            name=f"{name}Error",
            type=ResolvedComponent.SCHEMA,
            schema={
                "type": "object",
                "properties": {
                    "code": {"$ref": f"#/components/schemas/{name}CodeEnum"},
                    "detail": {"type": "string"},
                    "attr": {"type": "string", "nullable": True, "description": ATTR_DESCRIPTION},
                },
                "required": ["code", "detail", "attr"],
            },
            object=f"{name}Error",
        ),
        ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            schema={
                "type": "object",
                "properties": {
                    "type": {"$ref": f"#/components/schemas/{type_name}Enum"},
                    "errors": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}Error"}, "minItems": 1},
                },
                "required": ["type", "errors"],
            },
            object=name,
        ),
    ]


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the platform's errors, `Idempotency-Key` header and replay header."""

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST":
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        if self.method == "POST":
            for status_code, response in responses.items():
                if status_code.startswith("2"):
                    response["headers"] = {**response.get("headers", {}), **IDEMPOTENT_REPLAYED}
        for status_code, (error_type, codes, description) in self._error_answers().items():
            if status_code in responses:  # declared by the view itself
                continue
            *_, component = components = _error_components(self._error_name(status_code), error_type, codes)
            for each in components:
                self.registry.register_on_missing(each)
            responses[status_code] = {
                "content": {"application/json": {"schema": component.ref}},
                "description": description,
                **({"headers": ERROR_HEADERS[status_code]} if status_code in ERROR_HEADERS else {}),
            }
        return responses

    def _error_name(self, status_code):
        if status_code == "400":
            return f"{camelize(self.get_operation_id())}ErrorResponse400"
        return f"ErrorResponse{status_code}"

    def _error_answers(self):
        """{status: (type, codes, description)} of the errors this operation can answer."""
        # A body is parsed (400 `parse_error`, 415) even where the operation takes none: a session's CSRF
        # check reads the form data of a POST.
        has_body = self.method in BODY_METHODS
        invalid = self._validation_error_codes(has_body)
        client = {*EDGE_BAD_REQUEST, *(["parse_error"] if has_body else [])}
        types = ["client_error", "validation_error"] if invalid else "client_error"
        answers = {"400": (types, client | invalid, "The input is invalid, or a business rule refuses it: see `code`.")}
        wanted = {
            "401": any(self.get_auth()),
            "403": has_body,
            "404": self._can_answer_not_found(),
            "406": True,
            "409": self.method == "POST",
            "413": True,
            "415": has_body,
            "422": self.method == "POST",
            "429": True,
            "500": True,
        }
        answers.update({status: SHARED_ERRORS[status] for status, wanted in wanted.items() if wanted})
        return answers

    def _can_answer_not_found(self):
        paginated = isinstance(self._get_paginator(), PageNumberPagination | CursorPagination)
        return paginated or any(parameter["in"] == "path" for parameter in self._get_parameters())

    def _validation_error_codes(self, has_body):
        """The codes of a 400 of type `validation_error`: the input's fields' and the business rules'."""
        codes = set(DOMAIN_ERROR_CODES.get(self.get_operation_id(), ()))
        if has_body and self.get_request_serializer() is not None:
            codes |= _serializer_codes(self.get_request_serializer())
        if self.method == "POST":
            codes.add("invalid")  # a malformed Idempotency-Key
        for parameter in self.get_override_parameters():
            if is_serializer(parameter):
                codes |= _serializer_codes(parameter)
        backends = get_django_filter_backends(self.get_filter_backends())
        for form in get_filter_forms(self.view, backends):
            for field in get_form_fields_with_error_codes(form):
                codes |= field.error_codes
        return codes


def _serializer_codes(serializer):
    """Every code the fields of `serializer` (nested ones included) can answer with."""
    codes = set()
    fields = get_flat_serializer_fields(force_instance(serializer))
    for field in get_serializer_fields_with_error_codes(fields):
        codes |= field.error_codes
    for field in fields:
        for validator in getattr(field.field, "validators", ()):
            codes |= VALIDATOR_CODES.get(getattr(validator, "__name__", ""), set())
        # A list's bounds are no validators: DRF checks them itself.
        for bound in ("min_length", "max_length"):
            if getattr(field.field, bound, None) is not None:
                codes.add(bound)
    return codes


def postprocess_schema(result, generator, **kwargs):
    """Postprocessing hook: a decimal's pattern asks for a digit (drf-spectacular's allows an empty string,
    which DRF refuses), and an entry of `DOMAIN_ERROR_CODES` that names no operation is a warning."""
    _require_digits(result)
    operation_ids = {
        operation["operationId"] for path in result.get("paths", {}).values() for operation in path.values()
    }
    for operation_id in sorted(set(DOMAIN_ERROR_CODES) - operation_ids):
        warn(f"DOMAIN_ERROR_CODES names {operation_id}, which is no operation of the API.")
    return result


_DECIMAL_PATTERN = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


def _require_digits(node):
    if isinstance(node, dict):
        match = _DECIMAL_PATTERN.match(node.get("pattern", "")) if node.get("format") == "decimal" else None
        if match and int(match[1]) > 0:
            node["pattern"] = rf"^-?\d{{1,{match[1]}}}(?:\.\d{{1,{match[2]}}})?$"
        for value in node.values():
            _require_digits(value)
    elif isinstance(node, list):
        for value in node:
            _require_digits(value)
