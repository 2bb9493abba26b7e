"""Docker HEALTHCHECK: GET the health-check endpoint on this container.

Sends a Host from ALLOWED_HOSTS (Django rejects others) and X-Forwarded-Proto: https (as
the TLS proxy in front would), so SECURE_SSL_REDIRECT does not answer with a redirect.
Exit 0 when the database and the broker answer, 1 otherwise.
"""

import os
import sys
import urllib.request

hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
request = urllib.request.Request(
    f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/api/v1/utils/health-check/",
    headers={"Host": host, "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - fixed http URL
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
