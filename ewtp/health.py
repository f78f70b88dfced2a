from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from ewtp.celery import app as celery_app


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 naming what does not."""
    checks = {}
    for name, probe in (("database", _database), ("broker", _broker)):
        try:
            probe()
        except Exception as exc:  # any failure of a dependency is the answer, not a crash
            checks[name] = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"}
        else:
            checks[name] = {"status": "ok"}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
