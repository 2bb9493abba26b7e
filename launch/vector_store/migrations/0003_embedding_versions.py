"""Embedding versions: every record names its version, versions of any dimension coexist.

The stored vectors are kept. Each model name found in the table becomes a version
(the one the current settings produce becomes the active one; others, which searches
already ignored, are registered as retired so `manage.py reindex --drop-retired` can
clear them). The typed column becomes an untyped `vector`, and the one HNSW index
over every row is replaced by one partial index per version (services.versions).

On a large table run it in a quiet hour: it rebuilds the HNSW graph of the active
version (see 0002 for the memory it wants).
"""

import django.db.models.deletion
import pgvector.django.vector
from django.db import migrations, models


def register_versions(apps, schema_editor):
    from django.conf import settings

    Version = apps.get_model("vector_store", "EmbeddingVersion")
    Record = apps.get_model("vector_store", "VectorRecord")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        # Checked at once, or the ALTER TABLEs below meet "pending trigger events".
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT embedding_model, min(vector_dims(embedding)) FROM vector_store_vectorrecord "
            "GROUP BY embedding_model"
        )
        found = cursor.fetchall()
    provider = str(getattr(settings, "EMBEDDING_PROVIDER", "hashing") or "hashing")
    provider = provider.strip().lower().replace("_", "-")
    model = str(getattr(settings, "EMBEDDING_MODEL", "") or "")
    dimensions = int(getattr(settings, "EMBEDDING_DIMENSIONS", 384))
    configured = f"hashing-v1-{dimensions}" if provider == "hashing" else model
    for name, dims in found:
        if name.startswith("hashing-v1-"):
            spec = {"provider": "hashing", "model": ""}
        elif name == configured:
            spec = {"provider": provider, "model": model}
        else:
            spec = {"provider": "external", "model": name}
        active = name == configured and dims == dimensions
        version = Version.objects.create(
            name=name,
            dimensions=dims,
            state="active" if active else "retired",
            base_url=str(getattr(settings, "EMBEDDING_BASE_URL", "") or "")
            if spec["provider"] == "openai"
            else "",
            **spec,
        )
        Record.objects.filter(embedding_model=name).update(version=version)


def create_version_indexes(apps, schema_editor):
    from launch.vector_store.services.versions import index_sql

    Version = apps.get_model("vector_store", "EmbeddingVersion")
    with schema_editor.connection.cursor() as cursor:
        for version in Version.objects.exclude(state="retired"):
            version.index_name = f"vector_record_hnsw_v{version.pk}"
            cursor.execute(index_sql(version, concurrently=False))


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("vector_store", "0002_hnsw_ef_construction_32"),
    ]

    operations = [
        migrations.CreateModel(
            name="EmbeddingVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(help_text="Stored on every record.", max_length=200, unique=True)),
                ("provider", models.CharField(help_text="hashing, openai, onnx, ...", max_length=50)),
                ("model", models.CharField(blank=True, help_text="EMBEDDING_MODEL for it.", max_length=500)),
                ("dimensions", models.PositiveIntegerField()),
                ("base_url", models.CharField(blank=True, max_length=500)),
                ("state", models.CharField(choices=[("building", "Building"), ("active", "Active"), ("retired", "Retired")], default="building", max_length=20)),
                ("scopes_total", models.PositiveIntegerField(default=0)),
                ("scopes_done", models.PositiveIntegerField(default=0)),
                ("sources_total", models.PositiveIntegerField(default=0)),
                ("sources_done", models.PositiveIntegerField(default=0)),
                ("last_error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("activated_at", models.DateTimeField(blank=True, null=True)),
                ("retired_at", models.DateTimeField(blank=True, null=True)),
                ("replaces", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="vector_store.embeddingversion")),
            ],
            options={
                "verbose_name": "embedding version",
                "ordering": ["-created_at"],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("state", "active")), fields=("state",), name="embedding_version_one_active"),
                    models.UniqueConstraint(fields=("provider", "model", "dimensions", "base_url"), name="embedding_version_config_uniq"),
                ],
            },
        ),
        migrations.CreateModel(
            name="ScopeVersion",
            fields=[
                ("scope_id", models.UUIDField(primary_key=True, serialize=False)),
                ("switched_at", models.DateTimeField(auto_now=True)),
                ("version", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="vector_store.embeddingversion")),
            ],
            options={"verbose_name": "scope switched early"},
        ),
        migrations.AddField(
            model_name="vectorrecord",
            name="version",
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="vector_store.embeddingversion"),
        ),
        migrations.RunPython(register_versions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="vectorrecord",
            name="version",
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="vector_store.embeddingversion"),
        ),
        migrations.RemoveIndex(model_name="vectorrecord", name="vector_record_embedding_hnsw"),
        migrations.RemoveIndex(model_name="vectorrecord", name="vector_record_scope_model"),
        migrations.RemoveConstraint(model_name="vectorrecord", name="vector_record_source_chunk_uniq"),
        migrations.AlterField(
            model_name="vectorrecord",
            name="embedding",
            field=pgvector.django.vector.VectorField(),
        ),
        migrations.AddConstraint(
            model_name="vectorrecord",
            constraint=models.UniqueConstraint(fields=("version", "source_type", "source_id", "chunk_index"), name="vector_record_version_source_chunk_uniq"),
        ),
        migrations.AddIndex(
            model_name="vectorrecord",
            index=models.Index(fields=["scope_id", "version"], name="vector_record_scope_version"),
        ),
        migrations.AddIndex(
            model_name="vectorrecord",
            index=models.Index(fields=["source_type", "source_id"], name="vector_record_source"),
        ),
        migrations.RunPython(create_version_indexes, migrations.RunPython.noop),
    ]
