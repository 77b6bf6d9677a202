"""Schemathesis checks of isms' own rules, loaded with SCHEMATHESIS_HOOKS=isms_checks.

Every error the API answers is an RFC 9457 problem document: the media type
application/problem+json, a JSON object whose `status` is the HTTP status and
whose `title` names the problem. Every response carries the security headers.
"""
import json

import schemathesis


def _header(response, name):
    values = response.headers.get(name.lower()) or []
    return values[0] if values else ""


@schemathesis.check
def problem_document(ctx, response, case):
    """Every 4xx and 5xx answer of the API is a problem document."""
    if response.status_code < 400:
        return
    media = _header(response, "content-type").split(";")[0].strip()
    if media != "application/problem+json":
        raise AssertionError(
            f"{response.status_code} answered as {media or 'no content type'}, not application/problem+json"
        )
    try:
        doc = json.loads(response.content)
    except ValueError as e:
        raise AssertionError(f"the problem document is not JSON: {e}") from e
    if not isinstance(doc, dict) or doc.get("status") != response.status_code:
        raise AssertionError(f"the problem document's status is not {response.status_code}: {doc!r}")
    if not doc.get("title"):
        raise AssertionError(f"the problem document has no title: {doc!r}")


@schemathesis.check
def security_headers(ctx, response, case):
    """Every response carries the security headers."""
    for name in ("content-security-policy", "x-content-type-options"):
        if not _header(response, name):
            raise AssertionError(f"{response.status_code} without the {name} header")
