"""S3 sink: one gzip JSON Lines object per batch and partition, in the Hive layout.

``s3://bucket/prefix`` -> ``prefix/role=<role>/dt=YYYY-MM-DD/hour=HH/<time>-<uuid>.jsonl.gz``.
A PUT is atomic, so readers never see half an object. The boto3 client is
injected (tests, custom config) or built here with botocore's own retries
turned off, because the base class retries and spools.
"""

from __future__ import annotations

from typing import Any

from collector.sinks.base import BaseSink
from collector.sinks.items import Item, PartialWrite, group_by_partition, gzip_lines
from shadowdiff.aws import aws_errors
from shadowdiff.model.errors import SinkError
from shadowdiff.model.layout import object_name


def default_client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=3,
        read_timeout=15,
        max_pool_connections=4,
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


class S3Sink(BaseSink):
    def __init__(
        self, bucket: str, prefix: str = "", client: Any = None, buckets: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.bucket = bucket
        self.buckets = buckets  # N of the optional bucket=NN level (0: none)
        self.prefix = prefix.strip("/")
        self.name = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = client if client is not None else default_client("s3")

    def key_for(self, partition: str) -> str:
        name = f"{partition}/{object_name()}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def _write(self, items: list[Item]) -> None:
        groups = list(group_by_partition(items, self.buckets).items())
        for index, (partition, group) in enumerate(groups):
            key = self.key_for(partition)
            try:
                with aws_errors(SinkError, f"cannot write s3://{self.bucket}/{key}"):
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=key,
                        Body=gzip_lines(group),
                        ContentType="application/x-ndjson",
                    )
            except SinkError as err:
                if index == 0:
                    raise
                raise PartialWrite([i for _, g in groups[index:] for i in g], err) from err
