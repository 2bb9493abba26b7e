"""A real S3-compatible server on loopback for tests: moto's server mode, in a process.

Launch talks to it through django-storages and boto3 exactly as to AWS or SeaweedFS
(endpoint URL, keys, path-style addressing); tests look at the bucket with boto3.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from typing import Any

from tests.support.ports import free_port
from tests.support.processes import Process

ACCESS_KEY = "launch-test-access"
SECRET_KEY = "launch-test-secret-0123456789"
REGION = "us-east-1"


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        self.process = Process("s3", command, dict(os.environ))

    def listening(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self) -> S3Server:
        self.process.launch().wait_ready(self.listening, timeout=60)
        return self

    def stop(self) -> None:
        self.process.stop(timeout=15)
        self.process.log_path.unlink(missing_ok=True)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def create_bucket(self, name: str | None = None) -> str:
        name = name or f"launch-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return sorted(entry["Key"] for page in pages for entry in page.get("Contents", ()))

    def env(self, bucket: str, **extra: str) -> dict[str, str]:
        """The environment that points Launch's settings at `bucket` on this server."""
        return {
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_S3_REGION_NAME": REGION,
            "AWS_S3_ADDRESSING_STYLE": "path",
            **extra,
        }

    def storage_config(self, bucket: str, *, location: str = "") -> dict[str, Any]:
        """`STORAGES["default"]` as config/settings/base.py builds it for `env(bucket)`."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": self.endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "addressing_style": "path",
                "signature_version": "s3v4",
                "location": location,
                "file_overwrite": True,
                "default_acl": None,
                "querystring_auth": True,
            },
        }
