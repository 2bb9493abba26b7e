"""Retrieval evaluation: IR metrics and the BEIR dataset layout (pure Python, no Django).

The runner that ingests a corpus and searches it lives with the ingestion pipeline
(`apps.projects.services.evaluation`); `manage.py evaluate` drives it.
"""
