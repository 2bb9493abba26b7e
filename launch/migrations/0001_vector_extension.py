from django.db import migrations
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    """The pgvector extension, created once for every app that stores embeddings."""

    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [VectorExtension()]
