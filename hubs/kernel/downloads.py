"""A stored document served as a download: as an attachment (never shown inline), its type not sniffed, and its
SHA-256 in `Repr-Digest` (RFC 9530), so that what is downloaded can be checked against what was kept."""

import base64

from django.http import HttpResponse


def download_response(content: bytes, *, content_type: str, filename: str, sha256: str) -> HttpResponse:
    response = HttpResponse(bytes(content), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
    return response
