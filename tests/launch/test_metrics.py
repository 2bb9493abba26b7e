"""Prometheus metrics at /metrics: protected, and counting what launch/metrics.py says.

In-process tests read the exposition through Django's request handling; the last one
scrapes the shipped server (docker/gunicorn.conf.py, two worker processes) over HTTP to
show the values of every worker are added up (prometheus_client's multi-process mode).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from apps.operations import tasks
from config.celery import app as celery_app
from tests.factories import make_member, member, roles
from tests.projects.conftest import create_project, ingest
from tests.support.celery_worker import CeleryWorker
from tests.support.ports import free_port
from tests.support.shipped_server import shipped_server as serve

__all__ = ["make_member", "member", "roles"]  # fixtures

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests-0123456789"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def scrape(settings) -> Callable[[], Samples]:
    settings.METRICS_TOKEN = TOKEN
    client = Client()

    def get() -> Samples:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return parse(response.content.decode())

    return get


def test_metrics_are_not_served_without_a_token_configured(settings):
    settings.METRICS_TOKEN = ""
    response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer anything")
    assert response.status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}"])
def test_metrics_need_the_bearer_token(settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"launch_" not in response.content


def test_requests_are_counted_by_route_template_and_status(scrape, client_for, member):
    project = create_project(owner=member)
    api = client_for(member)
    before = scrape()
    assert api.get(f"/api/v1/projects/{project.pk}").status_code == 200
    assert api.get("/api/v1/projects/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get("/api/v1/no-such-thing").status_code == 404
    after = scrape()

    detail = {"method": "GET", "route": "/api/v1/projects/{project_id}"}
    counted = "launch_http_requests_total"
    for status in ("200", "404"):
        assert (
            value(after, counted, **detail, status=status)
            - value(before, counted, **detail, status=status)
            == 1
        )
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, counted, **unmatched) - value(before, counted, **unmatched) == 1
    timed = "launch_http_request_duration_seconds_count"
    assert value(after, timed, **detail) - value(before, timed, **detail) == 2
    # No raw path (and so no id) ever becomes a label value.
    assert not any(str(project.pk) in dict(labels).get("route", "") for _, labels in after)


def test_ingestion_search_and_tasks_are_measured(scrape, member, client_for):
    project = create_project(owner=member)
    before = scrape()
    document = ingest(project=project, data=b"The okapi lives in the Congo. " * 40, name="o.txt")
    assert document.status == "completed"
    failed = ingest(project=project, data=b" \n \n ", name="blank.txt")
    assert failed.status == "failed"
    api = client_for(member)
    for mode in ("keyword", "semantic"):
        response = api.post("/api/v1/search", {"query": "okapi", "mode": mode}, format="json")
        assert response.status_code == 200
    assert tasks.roll_up_usage.apply().successful()
    assert tasks.prune_activity.apply(args=("not an argument",)).failed()
    after = scrape()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("launch_ingestion_documents_total", outcome="completed") == 1
    assert delta("launch_ingestion_documents_total", outcome="failed") == 1
    assert delta("launch_ingestion_chunks_total") == document.total_chunks > 0
    searches = "launch_search_duration_seconds_count"
    assert delta(searches, mode="keyword", strategy="none") == 1
    assert delta(searches, mode="semantic", strategy="exact") == 1  # a small scope
    roll_up, prune = tasks.roll_up_usage.name, tasks.prune_activity.name
    assert delta("launch_celery_task_runs_total", task=roll_up, state="SUCCESS") == 1
    assert delta("launch_celery_task_runs_total", task=prune, state="FAILURE") == 1
    assert delta("launch_celery_task_failures_total", task=prune) == 1
    assert delta("launch_celery_task_failures_total", task=roll_up) == 0


@pytest.fixture
def shipped_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Two worker processes and a metrics folder holding a stale file of an earlier run."""
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left over from an earlier run")
    with serve(
        WEB_CONCURRENCY="2",
        WEB_THREADS="2",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    ) as base:
        yield base, folder


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_shipped_server_adds_up_every_workers_requests(shipped_server):
    base, folder = shipped_server
    assert not (folder / "counter_999999.db").exists()  # emptied at start
    health = {"method": "GET", "route": "/api/v1/utils/health-check", "status": "200"}
    requests = 40
    with httpx.Client(base_url=base, timeout=10) as client:
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert scraped.status_code == 200
        before = value(parse(scraped.text), "launch_http_requests_total", **health)
        # A new connection each time, so both worker processes take some of them.
        for _ in range(requests):
            response = httpx.get(f"{base}/api/v1/utils/health-check/", timeout=10)
            assert response.status_code == 200
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert value(parse(scraped.text), "launch_http_requests_total", **health) - before == requests
    writers = {path.stem.rsplit("_", 1)[1] for path in folder.glob("counter_*.db")}
    assert len(writers) == 2, writers  # a file per worker process, summed by the scrape


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_serves_its_pools_task_metrics_behind_the_token(tmp_path):
    folder = tmp_path / "worker-metrics"
    folder.mkdir()
    port = free_port()
    worker = CeleryWorker(
        concurrency=2,
        extra_env={
            "METRICS_TOKEN": TOKEN,
            "METRICS_WORKER_PORT": str(port),
            "METRICS_WORKER_HOST": "127.0.0.1",
            "PROMETHEUS_MULTIPROC_DIR": str(folder),
        },
    )
    url = f"http://127.0.0.1:{port}/metrics"
    # Messages other tests sent and nobody consumed would run in this worker too.
    celery_app.control.purge()
    worker.start()
    try:
        assert httpx.get(url, timeout=10).status_code == 401
        wrong = httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10)
        assert wrong.status_code == 401
        tasks.roll_up_usage.delay().get(timeout=60)
        # Sent by name: `delay` would refuse the wrong arguments before sending them.
        failed = celery_app.send_task(tasks.prune_activity.name, args=["not an argument"])
        with pytest.raises(TypeError):
            failed.get(timeout=60)
        # The pool's processes ran them; the worker's main process serves their sum.
        scraped = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    finally:
        worker.stop()
    assert scraped.status_code == 200
    samples = parse(scraped.text)
    runs = "launch_celery_task_runs_total"
    assert value(samples, runs, task=tasks.roll_up_usage.name, state="SUCCESS") == 1
    assert value(samples, runs, task=tasks.prune_activity.name, state="FAILURE") == 1
    assert value(samples, "launch_celery_task_failures_total", task=tasks.prune_activity.name) == 1


def test_unknown_methods_share_one_label_value(scrape):
    before = scrape()
    response = Client().generic("FROBNICATE", "/api/v1/utils/health-check/")
    after = scrape()
    labels = {"method": "other", "route": "/api/v1/utils/health-check"}
    counted = "launch_http_requests_total"
    status = str(response.status_code)
    assert (
        value(after, counted, **labels, status=status)
        - value(before, counted, **labels, status=status)
        == 1
    )
    assert not any(dict(labels_).get("method") == "FROBNICATE" for _, labels_ in after)
