"""Bookkeeping for scheduled work and usage; no domain data lives here."""

from __future__ import annotations

from django.db import models


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


class UsageCounter(models.Model):
    """Daily request counts of features that write no row of their own (search) or whose
    volume staff want at a glance (chat messages)."""

    name = models.CharField(max_length=50)
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "name"]
        constraints = [models.UniqueConstraint("name", "day", name="operations_usage_name_day")]

    def __str__(self) -> str:
        return f"{self.name} {self.day}: {self.count}"
