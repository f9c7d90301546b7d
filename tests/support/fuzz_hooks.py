"""schemathesis hooks for tests/live/test_api_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

One extra check: a schema-valid request may be refused by a rule that spans
fields or rows (422 `rule_violation`, 409 `conflict`, a missing object), but
never by a field check (422 `validation_error`): that would mean the document
promises a value the parser refuses."""
from __future__ import annotations

import json
import re

import schemathesis

# Fields whose check reads the database or spans fields, reported by their
# services as validation_error: an id that names no row, a code, name or SKU
# already in use, a zone or kind no room has (reports), a user email that is no
# anchor's, a file that is no CSV, an end not after its start, a longest session
# shorter than the shortest, a report's range (`to` before `from`, or past 400
# days, or `from` after `to`). And platform_accounts, whose key length (1-30) OpenAPI 3.0 cannot state
# (`propertyNames` is documented but not generated). A robot's or webhook's `url`
# (a real host, no credentials; a tenant's only on its platform's host) and a
# webhook `secret` (whsec_ must be base64) are checked beyond what a pattern
# says. Any other field refusing a
# schema-valid value is a failure.
ROW_FIELDS = {"tenant_id", "room_id", "booking_id", "product_id", "anchor_id", "order_ids", "target_ids",
              "anchors", "lineup", "items", "code", "name", "sku", "zone", "kind", "user_email", "file", "ends_at",
              "max_minutes", "from", "to", "platform_accounts", "url", "secret"}


@schemathesis.check
def valid_data_passes_field_checks(ctx, response, case):
    """A schema-valid request is never a 422 validation_error on a field the document describes."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        error = json.loads(response.content or b"{}").get("error", {})
    except ValueError:
        return None
    if error.get("code") != "validation_error":
        return None
    # "anchors[0].anchor_id" → "anchors"
    fields = {re.split(r"[\[.]", str(d.get("field")))[0] for d in error.get("details", [])}
    if fields - ROW_FIELDS:
        raise AssertionError(f"schema-valid data refused by a field check: {error.get('details')}")
    return None
