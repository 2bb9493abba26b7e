"""The README's control-room screenshot (docs/control-room.png), reproducible.

    .venv/bin/python bench/control_room_screenshot.py [--out docs/control-room.png]

Creates (once) the database `launch_demo_screenshot` on the embedded server (or
BENCH_DATABASE_URL), migrates it, runs `seed_demo` (which books 30 days of demo usage
and rolls them up) and a superuser `root@demo.example.com`, serves it with
`manage.py runserver` (local settings, DEBUG, so static files need no collectstatic) on
a loopback port, signs in through the admin's login form in headless Chromium
(Playwright, /usr/bin/chromium as tests/browser uses it) and saves the control room
once the charts are drawn. Needs Chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PYTHON, bench_database_url, free_port  # noqa: E402

DATABASE = "launch_demo_screenshot"
EMAIL, PASSWORD = "root@demo.example.com", "screenshot-password-123"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


def environment(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=url,
        PYTHONPATH=str(ROOT),
        REDIS_URL="",
        CACHE_URL="locmemcache://",
        LOG_LEVEL="WARNING",
    )
    return env


def seed(env: dict[str, str]) -> None:
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('seed_demo', verbosity=0)\n"
        "from apps.users.models import User\n"
        f"if not User.objects.filter(email={EMAIL!r}).exists():\n"
        f"    User.objects.create_superuser(email={EMAIL!r}, password={PASSWORD!r},"
        " full_name='Root Demo')\n"
    )
    subprocess.run([PYTHON, "-c", code], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "control-room.png")
    parser.add_argument("--width", type=int, default=1100)
    args = parser.parse_args()

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        raise SystemExit("Chromium is missing: apt-get install -y chromium")
    env = environment(bench_database_url(DATABASE))
    print("seeding", flush=True)
    seed(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/admin/login/", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.3)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page(
                viewport={"width": args.width, "height": 900}, device_scale_factor=1
            )
            page.goto(base + "/admin/login/?next=/admin/")
            page.fill("input[name=username]", EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_selector(".usage-money canvas")
            # Chart.js marks each canvas it drew on; wait for all four.
            page.wait_for_function(
                "Array.from(document.querySelectorAll('canvas[data-usage-chart]'))"
                ".every(c => window.Chart && Chart.getChart(c))"
            )
            # The cards, the charts and the top spenders: from the header to the lists.
            bottom = page.evaluate(
                "document.querySelector('.usage-money').getBoundingClientRect().bottom"
                " + window.scrollY"
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(args.out),
                clip={"x": 0, "y": 0, "width": args.width, "height": int(bottom) + 16},
                full_page=True,
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"saved {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
