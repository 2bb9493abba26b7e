"""Bookkeeping for scheduled work and usage; no domain data lives here."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class PeriodicRun(models.Model):
    """One row per (task, period) that did its work: the unique constraint is the lock
    that makes a duplicate beat's second run of the same period a no-op."""

    task = models.CharField(max_length=200)
    period_start = models.DateTimeField()
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint("task", "period_start", name="operations_run_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.task} @ {self.period_start:%Y-%m-%d %H:%M}"


class UsageEvent(models.Model):
    """One use of a counted feature (a search), appended as it happens.

    Append-only: concurrent requests insert rows and never wait on one another, where
    adding to one counter row per day made every search queue on that row's lock. The
    `roll_up_usage` task folds these rows into `UsageCounter` and deletes them.
    """

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=50)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class UsageCounter(models.Model):
    """Daily request counts of features that write no row of their own (search), rolled
    up from `UsageEvent` rows by the `roll_up_usage` task; the rows not rolled up yet are
    added when the control room reads them (`selectors.usage_total`)."""

    name = models.CharField(max_length=50)
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "name"]
        constraints = [models.UniqueConstraint("name", "day", name="operations_usage_name_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.day}: {self.count}"
