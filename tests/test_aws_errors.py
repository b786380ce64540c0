"""One table and one seam for botocore's failures: the resource and the reason in one line."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from shadowdiff.aws import aws_errors, describe
from shadowdiff.model.errors import SinkError, SourceError


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "GetObject")


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (_client_error("NoSuchBucket"), "NoSuchBucket (no such bucket)"),
        (_client_error("AccessDenied"), "AccessDenied (access denied)"),
        (_client_error("ResourceNotFoundException"), "ResourceNotFoundException (no such stream)"),
        (_client_error("SomethingNew"), "SomethingNew"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
            'Could not connect to the endpoint URL: "http://127.0.0.1:9"',
        ),
    ],
)
def test_a_botocore_failure_is_described_in_words(exc, text):
    assert describe(exc) == text


def test_the_seam_raises_the_callers_error_naming_the_resource_from_the_botocore_one():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="y")  # fmt: skip
    with Stubber(client) as stub:
        stub.add_client_error("get_object", service_error_code="NoSuchKey")
        with pytest.raises(SourceError) as info:
            with aws_errors(SourceError, "cannot read s3://b/k.jsonl.gz"):
                client.get_object(Bucket="b", Key="k.jsonl.gz")
    assert str(info.value) == "cannot read s3://b/k.jsonl.gz: NoSuchKey (no such key)"
    assert isinstance(info.value.__cause__, ClientError)


def test_other_errors_pass_through_untouched():
    with pytest.raises(ValueError), aws_errors(SinkError, "cannot write s3://b/k"):
        raise ValueError("not botocore")
