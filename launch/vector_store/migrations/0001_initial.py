import django.contrib.postgres.indexes
import django.contrib.postgres.search
import django.db.models.deletion
import pgvector.django.indexes
import pgvector.django.vector
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    """The vector records table with its HNSW, GIN and scope indexes.

    The embedding dimension is written here, not read from settings: changing
    EMBEDDING_DIMENSIONS makes `makemigrations` produce a migration that alters the
    column, and `manage.py reindex` then fills it with vectors of the new model.
    """

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("launch", "0001_vector_extension"),
    ]

    operations = [
        migrations.CreateModel(
            name='VectorRecord',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('source_id', models.UUIDField()),
                ('scope_id', models.UUIDField()),
                ('chunk_index', models.PositiveIntegerField()),
                ('content', models.TextField()),
                ('metadata', models.JSONField(blank=True, default=dict)),
                ('embedding', pgvector.django.vector.VectorField(dimensions=384)),
                ('embedding_model', models.CharField(max_length=200)),
                ('search_vector', models.GeneratedField(db_persist=True, expression=django.contrib.postgres.search.SearchVector('content', config='english'), output_field=django.contrib.postgres.search.SearchVectorField())),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('source_type', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contenttypes.contenttype')),
            ],
            options={
                'verbose_name': 'vector record',
                'indexes': [pgvector.django.indexes.HnswIndex(ef_construction=64, fields=['embedding'], m=16, name='vector_record_embedding_hnsw', opclasses=['vector_cosine_ops']), django.contrib.postgres.indexes.GinIndex(fields=['search_vector'], name='vector_record_search_gin'), models.Index(fields=['scope_id', 'embedding_model'], name='vector_record_scope_model')],
                'constraints': [models.UniqueConstraint(fields=('source_type', 'source_id', 'chunk_index'), name='vector_record_source_chunk_uniq')],
            },
        ),
        # pgvector stores vectors with EXTERNAL storage, so a row with ~1 kB of text gets
        # its 1.5 kB vector moved to TOAST, and every exact scan pays a TOAST fetch per
        # row. MAIN keeps it in the row; the text and tsvector are compressed first.
        migrations.RunSQL(
            sql="ALTER TABLE vector_store_vectorrecord ALTER COLUMN embedding SET STORAGE MAIN",
            reverse_sql="ALTER TABLE vector_store_vectorrecord ALTER COLUMN embedding SET STORAGE EXTERNAL",
        ),
    ]
