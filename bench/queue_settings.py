"""Settings for bench/queues.py: production settings; BENCH_ONE_QUEUE=1 sends every task
to one queue, as Launch did before its queues per kind of work."""

import os

from bench.settings import *  # noqa: F403

if os.environ.get("BENCH_ONE_QUEUE") == "1":
    CELERY_TASK_ROUTES = {}
