"""The platform's settings (`ewtp.settings`, from the same environment), plus what `bench/api.py` needs:
the bare endpoint's app and routes, and a middleware that counts each request's queries."""

from ewtp.settings import *  # noqa: F403
from ewtp.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "bench.bare"]
# Outermost, so that every query of the request is counted: sessions, authentication, throttling, the view.
MIDDLEWARE = ["bench.middleware.QueryCountMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "bench.urls"
