"""AI building blocks: embedding providers, text chunking and document text extraction.

Everything here is plain Python with no database access, so the vector store, the
ingestion pipeline and the chat features can share it and test it without PostgreSQL.
"""
