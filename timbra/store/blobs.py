"""Where the stamped XML lives: in the database (default, table cfdi_xml) or in an S3-compatible object
store (TIMBRA_BLOB_URL), so the database stays small and several machines share the documents.

    TIMBRA_BLOB_URL=s3://bucket/prefix?endpoint_url=https://s3.example.mx&region=us-east-1

Credentials come from the usual AWS variables or files (boto3's chain). Durability: the object is written
before the transaction that stores the stamp commits, so an answered stamp always has its XML; a commit
that fails leaves an object nobody points to (harmless, and the retention job never needs it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlsplit


class Blobs(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def delete(self, keys: list[str]) -> None: ...


class BlobError(Exception):
    """The object store did not do what was asked (unreachable, denied, missing object)."""


def cfdi_key(uuid: str) -> str:
    """The object key of a CFDI's XML: spread over 256 prefixes by the UUID's first two characters."""
    u = uuid.upper()
    return f"cfdi/{u[:2]}/{u}.xml"


@dataclass
class S3Blobs:
    bucket: str
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None

    def __post_init__(self) -> None:
        import boto3
        from botocore.config import Config

        self._client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                                    config=Config(retries={"max_attempts": 5, "mode": "standard"},
                                                  max_pool_connections=32))

    def _key(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                                    ContentType="application/xml")
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"put {key}: {type(exc).__name__}") from exc

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise BlobError(f"get {key}: {type(exc).__name__}") from exc

    def delete(self, keys: list[str]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        for i in range(0, len(keys), 1000):  # S3's limit per DeleteObjects
            chunk = [{"Key": self._key(k)} for k in keys[i:i + 1000]]
            try:
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
            except (BotoCoreError, ClientError) as exc:
                raise BlobError(f"delete: {type(exc).__name__}") from exc


def blobs_from_url(url: str | None) -> Blobs | None:
    """None (XML in the database) or the object store TIMBRA_BLOB_URL names; ValueError for another scheme."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError("TIMBRA_BLOB_URL: s3://bucket/prefix?endpoint_url=...&region=...")
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return S3Blobs(parts.netloc, parts.path.strip("/"), q.get("endpoint_url"), q.get("region"))
