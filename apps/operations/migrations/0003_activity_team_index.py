"""An index for reading one team's activity log, newest first.

The log is django-auditlog's `LogEntry`, which this project does not own: a column
cannot be added to it (swapping in our own entry model through AUDITLOG_LOGENTRY_MODEL
would mean moving every existing entry), and a side table keyed by entry would cost a
row and a join per entry. auditlog does give every entry a JSON `additional_data`, where
`apps.operations.activity` writes the team; PostgreSQL indexes the expression
`additional_data ->> 'team'` directly. Partial (entries with a team), and ordered like
the API's newest-first read, so a page is an index range scan. Built CONCURRENTLY: the
log is the largest table and keeps taking writes while the index is built.

First, the entries written before entries carried `team`: phase 1's team rights entries
name their team as `team_id`; they gain `team`, so a team's log starts with its
creation. (Entries about objects predate teams owning objects: nothing to add.)
"""

from django.db import migrations

INDEX = "operations_activity_team_idx"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("operations", "0002_usage_event"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "UPDATE auditlog_logentry SET additional_data = additional_data || "
                "jsonb_build_object('team', additional_data ->> 'team_id') "
                "WHERE left(additional_data ->> 'rights', 5) = 'team_' "
                "AND additional_data ? 'team_id' AND NOT additional_data ? 'team'"
            ),
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            sql=(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON auditlog_logentry "
                "((additional_data ->> 'team'), \"timestamp\" DESC, id DESC) "
                "WHERE (additional_data ->> 'team') IS NOT NULL"
            ),
            reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}",
        ),
    ]
