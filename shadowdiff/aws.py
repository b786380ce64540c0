"""Botocore's failures as shadowdiff's: one table of AWS error codes, one context manager.

Every adapter that talks to AWS — the collector's S3 and Kinesis sinks, the
report's S3 and Kinesis sources, the report writer, the service's reports
root, the live publisher — maps botocore's exceptions at its seam to the
error of its own layer (``SourceError``, ``SinkError``, ``ConfigError``), with a
message that names the bucket, key or stream. They used to catch botocore's
two exception bases each and word the message each their own way;
:func:`aws_errors` does it once::

    with aws_errors(SourceError, f"cannot read s3://{bucket}/{key}"):
        obj = client.get_object(Bucket=bucket, Key=key)

raises ``SourceError("cannot read s3://b/k: NoSuchKey (no such key)")`` from the
botocore error. botocore is imported only when the block runs, so this module
costs nothing where no AWS client is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from shadowdiff.model.errors import ShadowdiffError

#: What the AWS error codes users meet most often mean, in words.
READABLE = {
    "NoSuchBucket": "no such bucket",
    "NoSuchKey": "no such key",
    "404": "not found",
    "403": "access denied",
    "AccessDenied": "access denied",
    "AccessDeniedException": "access denied",
    "ResourceNotFoundException": "no such stream",
    "ExpiredToken": "expired credentials",
    "ExpiredTokenException": "expired credentials",
    "InvalidAccessKeyId": "unknown access key",
    "SignatureDoesNotMatch": "credentials do not match",
    "SlowDown": "throttled",
    "ThrottlingException": "throttled",
    "ProvisionedThroughputExceededException": "throughput exceeded",
}


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``; None for any other failure."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None


def describe(exc: BaseException) -> str:
    """``NoSuchBucket (no such bucket)`` for a known code, the code alone, else the message."""
    code = error_code(exc)
    if code is None:
        return str(exc) or type(exc).__name__
    return f"{code} ({READABLE[code]})" if code in READABLE else code


@contextmanager
def aws_errors(error: Callable[[str], ShadowdiffError], what: str) -> Iterator[None]:
    """Re-raise any botocore failure inside the block as ``error(f"{what}: {why}")``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise error(f"{what}: {describe(exc)}") from exc
