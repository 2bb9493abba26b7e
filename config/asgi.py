import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django.setup(set_prefix=False)

from launch.asgi import ASGIHandler  # noqa: E402  (needs the apps loaded)

application = ASGIHandler()
