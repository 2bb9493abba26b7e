from django.apps import AppConfig


class VectorStoreConfig(AppConfig):
    name = "launch.vector_store"
    label = "vector_store"
    verbose_name = "Vector store"
