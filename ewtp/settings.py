"""Settings read from the environment, with an embedded default for local use.

Unset, everything runs on one machine with no servers: SQLite in `var/`, a Celery broker on the
file system, DEBUG on. Production sets DEBUG=false and must then give SECRET_KEY and ALLOWED_HOSTS.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Local state of the embedded default: SQLite files, the file-system broker, uploads.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="embedded-default-insecure-key-for-local-use-only")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
        ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"With DEBUG off, {exc}") from exc

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "django_filters",
    "django_countries",
    "djmoney",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "axes",
    "hubs",
    "trade",
    "customs",
    "payments",
    "logistics",
    "ewtp.apps.JourneyConfig",  # last: the order's journey wires the apps' steps together
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ewtp.middleware.RequestGuardMiddleware",
    "ewtp.middleware.CacheTokensMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ewtp.middleware.PrivateAnswersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Request bodies: the largest the platform reads (a listing or an order is a few kB). A bigger body is
# refused with 413 before it is read; an API error in the JSON shape.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)

# Content-Security-Policy: scripts and styles only from the platform's own static files, no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# No page needs a device's sensors or payment sheet.
PERMISSIONS_POLICY = {
    feature: [] for feature in ("accelerometer", "camera", "geolocation", "gyroscope", "microphone", "payment", "usb")
}

ROOT_URLCONF = "ewtp.urls"
WSGI_APPLICATION = "ewtp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hubs.context_processors.actor",
            ],
        },
    },
]

# Database: DATABASE_URL, or a SQLite file in var/. The SQLite test database is a file too, so
# that a Celery worker process started by the integration tests can open it.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ewtp.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-ewtp.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "hubs.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# Login lockout (portal and console): after LOGIN_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused, the right password included, for LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "hubs.throttling.client_address"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# The cache holds rate-limit counts and the worker's heartbeat, so every process must share it: files in
# var/ by default, Redis in production (CACHE_URL=redis://...).
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# Consumers' ID numbers are kept as a keyed hash (for the annual CBEC quota). A key of its own, so
# that rotating SECRET_KEY does not reset every consumer's quota.
CONSUMER_ID_HASH_KEY = env.str("CONSUMER_ID_HASH_KEY", default=SECRET_KEY)

# How long a landed-cost quote binds its figures.
QUOTE_VALIDITY_MINUTES = env.int("QUOTE_VALIDITY_MINUTES", default=30)

# Payments: the provider (a dotted class path; the simulated one needs no network), the secrets its webhooks are
# signed with (the first signs; older ones are still accepted while a key rotates), and how long a placed order
# waits for its payment before it is cancelled and its stock returned.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="payments.providers.SimulatedProvider")
PAYMENT_WEBHOOK_SECRETS = env.list(
    "PAYMENT_WEBHOOK_SECRETS", default=[hashlib.sha256(f"payment-webhooks:{SECRET_KEY}".encode()).hexdigest()]
)
PAYMENT_WINDOW_MINUTES = env.int("PAYMENT_WINDOW_MINUTES", default=60)
# Consignments are booked with a carrier (a dotted class path), whose tracking webhooks are signed with the secrets
# (the first signs; older ones still accepted while a key rotates). The simulated one fails and times out as told
# here (shares of the calls).
CARRIER = env.str("CARRIER", default="logistics.carriers.SimulatedCarrier")
CARRIER_WEBHOOK_SECRETS = env.list(
    "CARRIER_WEBHOOK_SECRETS", default=[hashlib.sha256(f"carrier-webhooks:{SECRET_KEY}".encode()).hexdigest()]
)
# Partner webhooks (`hubs.partner_webhooks`): how long an endpoint has to answer, how many times an event is sent
# before it is given up (backing off from a minute, doubling, an hour at most), and whether endpoints may be on
# private or loopback addresses (never in production: a partner's URL must not reach into our network). When an
# endpoint's secret is rotated, events are signed with the old secret too (a second `v1` in the signature header)
# for this many hours, so that the partner switches to the new one without refusing an event meanwhile.
PARTNER_WEBHOOKS_TIMEOUT_SECONDS = env.float("PARTNER_WEBHOOKS_TIMEOUT_SECONDS", default=5)
PARTNER_WEBHOOKS_MAX_ATTEMPTS = env.int("PARTNER_WEBHOOKS_MAX_ATTEMPTS", default=10)
PARTNER_WEBHOOKS_ALLOW_PRIVATE = env.bool("PARTNER_WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
PARTNER_WEBHOOKS_SECRET_GRACE_HOURS = env.float("PARTNER_WEBHOOKS_SECRET_GRACE_HOURS", default=24)
SIMULATED_CARRIER = {
    "failure_rate": env.float("SIMULATED_CARRIER_FAILURE_RATE", default=0.0),
    "timeout_rate": env.float("SIMULATED_CARRIER_TIMEOUT_RATE", default=0.0),
}
# Customs: the largest document an SME may send to answer a hold.
CUSTOMS_DOCUMENT_MAX_BYTES = env.int("CUSTOMS_DOCUMENT_MAX_BYTES", default=5 * 1024 * 1024)
# A CBEC import returned within this many days of its release gives the consumer's annual quota back (goods
# returned in their original state within 6 months re-enter free: the reference facts, §3.5).
CBEC_RETURN_WINDOW_DAYS = env.int("CBEC_RETURN_WINDOW_DAYS", default=183)


# Hub to hub: pre-arrival messages go through a transport (a dotted class path; the in-process one hands them to the
# destination hub on this platform); a rotated hub-pair key still verifies for this many hours.
HUB_MESSAGE_TRANSPORT = env.str("HUB_MESSAGE_TRANSPORT", default="customs.exchange.InProcessTransport")
HUB_KEY_GRACE_HOURS = env.int("HUB_KEY_GRACE_HOURS", default=24)
# Payouts go through a bank rail (a dotted class path). The simulated one fails, times out and takes its time as
# told here (shares of the calls, seconds), so that a demo or a soak test can watch payouts recover.
BANK_RAIL = env.str("BANK_RAIL", default="payments.rails.SimulatedRail")
SIMULATED_RAIL = {
    "failure_rate": env.float("SIMULATED_RAIL_FAILURE_RATE", default=0.0),
    "timeout_rate": env.float("SIMULATED_RAIL_TIMEOUT_RATE", default=0.0),
    "latency_seconds": env.float("SIMULATED_RAIL_LATENCY_SECONDS", default=0.0),
}

# Money: one precision for every MoneyField; the currencies the hubs and SMEs use.
CURRENCIES = ("CNY", "MYR", "USD", "EUR", "GBP", "SGD", "HKD", "THB", "IDR", "VND", "PHP", "JPY", "KRW", "AUD")
DEFAULT_CURRENCY = "USD"
CURRENCY_DECIMAL_PLACES = 2

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hubs.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "ewtp.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PARSER_CLASSES": ["hubs.kernel.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": ["hubs.throttling.ClientAndAddressThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "client": env.str("API_RATE_PER_CLIENT", default="300/min"),  # per API key or signed-in user
        "address": env.str("API_RATE_PER_ADDRESS", default="600/min"),  # per client address
        "api_key_failures": env.str("API_KEY_FAILURES_PER_ADDRESS", default="10/hour"),
    },
    # Client addresses come from REMOTE_ADDR unless trusted proxies in front add X-Forwarded-For.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "ewtp.api.ExceptionHandler",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "eHub platform API",
    "DESCRIPTION": "REST API of the eHub platform for partner integrators: marketplaces, ERPs, carriers and hub "
    "systems. Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CurrencyEnum": "ewtp.settings.CURRENCIES",
        "UnitEnum": "trade.models.Unit.choices",
        "CountryEnum": "django_countries.countries",
        "ListingStatusEnum": "trade.models.ListingStatus.choices",
        "OrderStatusEnum": "trade.models.OrderStatus.choices",
        "DepartureStatusEnum": "logistics.models.DepartureStatus.choices",
        "ShipmentStatusEnum": "logistics.models.ShipmentStatus.choices",
    },
    # Request and response bodies are separate components: what the platform sets (ids, times) is
    # read-only, never asked of a client, and a response's optional text may be empty.
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers, the Idempotency-Key header and the replay header (ewtp/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ewtp.openapi.postprocess_schema",
    ],
}

# Celery: the broker is CELERY_BROKER_URL, else REDIS_URL, else a folder in var/ so that the
# embedded default runs a real worker process with no server to install.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default="filesystem://"))
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 5
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# A sweeper takes a step as lost once the state that asks for it is this old (its reaction had its chance in the
# queue), and a send claimed this long ago (a webhook, a payout tranche) as its worker's death: keep it above the
# task time limit, or a slow live send may go twice (harmless: the rail takes the tranche's key once, a partner the
# event's id). The messages it sends again expire after as long, so that sweeps never grow a backlog.
SWEEP_AFTER_SECONDS = env.int("SWEEP_AFTER_SECONDS", default=120)
CELERY_BEAT_SCHEDULE = {
    # A worker's sign of life for /healthz.
    "worker-heartbeat": {"task": "hubs.tasks.worker_heartbeat_task", "schedule": 30},
    # The API keeps the first answer to an Idempotency-Key for 24 hours, then forgets it.
    "purge-expired-claims": {"task": "hubs.tasks.purge_expired_claims_task", "schedule": 60 * 60},
    # Partner webhooks whose next attempt is due, and those whose worker died while sending them.
    "webhook-deliveries-sweep": {"task": "hubs.tasks.webhook_deliveries_sweep_task", "schedule": 60},
    # Payments left pending, refunds and escrow moves a lost message left undone; unpaid orders past their window.
    "payments-sweep": {"task": "payments.tasks.payments_sweep_task", "schedule": 60},
    "cancel-unpaid-orders": {"task": "payments.tasks.cancel_unpaid_orders_task", "schedule": 60},
    # Payouts: tranches whose day has come, refused ones after their back-off, and those left sending.
    "tranches-due": {"task": "payments.tasks.tranches_due_task", "schedule": 60},
    # Consolidation: departures closed at their cut-off, their parcels packed.
    "departures-close": {"task": "logistics.tasks.departures_close_due_task", "schedule": 60},
    # The journey: orders a lost message left between two steps, sent on.
    "journey-sweep": {"task": "ewtp.lifecycle.journey_sweep_task", "schedule": 60},
    # Hub to hub: pre-arrival messages due again (after a failure's back-off, or a worker that died mid-send).
    "hub-messages-sweep": {"task": "customs.tasks.hub_messages_sweep_task", "schedule": 30},
    # CBEC exports declared in summary once their month is over at their hub (hubs' months end at different hours).
    "summaries-file": {"task": "customs.tasks.summaries_file_task", "schedule": crontab(minute=20)},
    # Tracking: each shipment on its way asked of the carrier, besides what its webhook brings.
    "shipments-track": {"task": "logistics.tasks.shipments_track_task", "schedule": 15 * 60},
    # The books proven every night at 02:00 UTC; what differs is shown in the console.
    "reconcile": {"task": "payments.tasks.reconcile_task", "schedule": crontab(hour=2, minute=0)},
}
# A periodic task no worker took before its next run is dropped, not queued behind that run, which does its work.
for _entry in CELERY_BEAT_SCHEDULE.values():
    if isinstance(_entry["schedule"], int):
        _entry.setdefault("options", {"expires": _entry["schedule"]})

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Lockouts are logged as warnings; every successful login is not news. WeasyPrint reports each step of every
    # PDF it renders at INFO; httpx each request of partner webhooks, which their delivery log holds.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}

# Production hardening: on whenever DEBUG is off (TLS terminates at the proxy in front of gunicorn).
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # probed over plain HTTP inside the network
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
