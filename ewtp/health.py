from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ewtp.celery import app as celery_app
from hubs.tasks import WORKER_HEARTBEAT_KEY

# Beat asks a worker for a heartbeat every 30 seconds; one older than this means no worker is taking tasks.
WORKER_SILENT_AFTER = timedelta(minutes=2)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=3)


def _worker():
    """When a worker last ran a task: reported, not required, since restarting the web process would
    not bring a worker back."""
    last = cache.get(WORKER_HEARTBEAT_KEY)
    if last is None:
        return {"status": "unknown", "detail": "No worker has answered since the cache was last emptied."}
    age = timezone.now() - datetime.fromisoformat(last)
    status = "ok" if age <= WORKER_SILENT_AFTER else "silent"
    return {"status": status, "last_heartbeat": last, "seconds_ago": int(age.total_seconds())}


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 naming what does not; and when a worker last
    answered."""
    checks = {}
    for name, probe in (("database", _database), ("broker", _broker)):
        try:
            probe()
        except Exception as exc:  # any failure of a dependency is the answer, not a crash
            checks[name] = {"status": "error", "detail": f"{type(exc).__name__}: {exc}"}
        else:
            checks[name] = {"status": "ok"}
    healthy = all(check["status"] == "ok" for check in checks.values())
    checks["worker"] = _worker()
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
