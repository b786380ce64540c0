"""CreateStack smoke test of every template against moto's standalone server.

moto models only part of CloudFormation: it creates S3 buckets, Kinesis streams,
IAM roles, Lambda functions/versions and log groups from a template, but silently
skips CloudFront, Firehose, Glue, Secrets Manager, ECS, ELB and Scheduler resources
(and fails on outputs that read them), and of the resources it does create it
ignores some properties (``IGNORED_BY_MOTO``). So each template is cut down to the types
below, together with whatever refers to what was cut, and what was cut is listed in
``test_what_moto_does_not_check``: those are checked by cfn-lint and the template
tests (tests/infra/test_infra_templates.py) only, never by a deployment here.
"""

from __future__ import annotations

import ast
import io
import json
import urllib.parse
import zipfile

import boto3
import pytest
from infra_support import INFRA, load, strip_for_moto

CHECKED_BY_MOTO = {
    "AWS::S3::Bucket",
    "AWS::Kinesis::Stream",
    "AWS::IAM::Role",
    "AWS::Lambda::Function",
    "AWS::Lambda::Version",
    "AWS::Logs::LogGroup",
}
# Properties moto's CloudFormation accepts but does not apply (checked in the template tests).
IGNORED_BY_MOTO = (
    "S3 PublicAccessBlockConfiguration, LifecycleConfiguration and OwnershipControls",
    "Kinesis StreamModeDetails (ON_DEMAND) and StreamEncryption",
)
ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:shadowdiff-x"
CERT = f"arn:aws:acm:us-east-1:{ACCOUNT}:certificate/x"
NETWORK = {"VpcId": "vpc-1", "AlbSubnetIds": "subnet-1", "TaskSubnetIds": "subnet-2"}
PARAMETERS = {
    "capture": {"CaptureRetentionDays": "7"},
    "edge": {
        "EdgeCodeBucket": "edge-code",
        "EdgeCodeKey": "edge/shadowdiff-edge-abc.zip",
        "ShadowCollectorUrls": "https://shadow.example.com",
        "BlueOriginDomain": "blue.example.com",
    },
    "collector": {
        **NETWORK,
        "CertificateArn": CERT,
        "CollectorDomainName": "shadow.example.com",
        "AppImage": "app:2",
        "CollectorImage": "collector:1",
        "CaptureStreamName": "captures",
        "CaptureBucketName": "capture-bucket",
        "SigningSecretArn": SECRET,
    },
    "report": {
        **NETWORK,
        "CertificateArn": CERT,
        "ReportImage": "report:1",
        "CaptureBucketName": "capture-bucket",
        "ReportTokenSecretArn": SECRET,
    },
}


def _create(cfn, name: str) -> tuple[dict, dict[str, str]]:
    template = load(INFRA / f"{name}.yaml")
    removed = strip_for_moto(template, CHECKED_BY_MOTO)
    cfn.create_stack(
        StackName=f"sd-{name}",
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS[name].items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    stack = cfn.describe_stacks(StackName=f"sd-{name}")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return stack, removed


def _physical(cfn, stack: str, logical: str) -> str:
    found = cfn.describe_stack_resource(StackName=stack, LogicalResourceId=logical)
    return str(found["StackResourceDetail"]["PhysicalResourceId"])


def _role(iam, name: str) -> tuple[dict, list[dict]]:
    role = iam.get_role(RoleName=name)["Role"]
    statements = []
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(doc, str):  # moto hands back the template's dict as its Python repr
            doc = ast.literal_eval(urllib.parse.unquote(doc))
        statements += doc["Statement"]
    return role, statements


def _principals(role: dict) -> set[str]:
    services = set()
    for statement in role["AssumeRolePolicyDocument"]["Statement"]:
        service = statement["Principal"]["Service"]
        services |= {service} if isinstance(service, str) else set(service)
    return services


def _actions(statements: list[dict]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        action = statement["Action"]
        actions |= {action} if isinstance(action, str) else set(action)
    return actions


@pytest.fixture(scope="module")
def stacks(moto_endpoint):
    """All four stacks created once in moto; {name: (stack, removed types)}."""
    mp = pytest.MonkeyPatch()
    for key, value in {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        mp.setenv(key, value)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="edge-code")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as zf:
        zf.writestr("edge/handler.py", "def handler(event, context):\n    return event\n")
    s3.put_object(Bucket="edge-code", Key="edge/shadowdiff-edge-abc.zip", Body=package.getvalue())
    cfn = boto3.client("cloudformation")
    try:
        yield {name: _create(cfn, name) for name in PARAMETERS}
    finally:
        mp.undo()


def test_capture_bucket_is_created_encrypted(stacks, aws_env):
    cfn, s3 = boto3.client("cloudformation"), boto3.client("s3")
    bucket = _physical(cfn, "sd-capture", "CaptureBucket")
    sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks["capture"][0]["Outputs"]}
    assert outputs["CapturesUri"] == f"s3://{bucket}/captures"


def test_capture_stream_exists_and_firehose_may_only_read_it(stacks, aws_env):
    cfn, kinesis, iam = (boto3.client(s) for s in ("cloudformation", "kinesis", "iam"))
    stream = _physical(cfn, "sd-capture", "CaptureStream")
    summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
    assert summary["StreamStatus"] == "ACTIVE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks["capture"][0]["Outputs"]}
    assert outputs["CollectorSink"] == f"kinesis://{stream}"
    role, statements = _role(iam, _physical(cfn, "sd-capture", "FirehoseRole"))
    assert _principals(role) == {"firehose.amazonaws.com"}
    kinesis_actions = {a for a in _actions(statements) if a.startswith("kinesis:")}
    assert kinesis_actions and not any(a.startswith("kinesis:Put") for a in kinesis_actions)


def test_edge_function_is_published_small_and_may_only_write_logs(stacks, aws_env):
    cfn, lam, iam = (boto3.client(s) for s in ("cloudformation", "lambda", "iam"))
    function = lam.get_function(FunctionName=_physical(cfn, "sd-edge", "EdgeFunction"))
    config = function["Configuration"]
    assert config["Handler"] == "edge.handler.handler"
    assert config["Runtime"].startswith("python3.1")
    assert (config["MemorySize"], config["Timeout"]) == (128, 5)
    assert not config.get("Environment", {}).get("Variables")
    versions = lam.list_versions_by_function(FunctionName=config["FunctionName"])["Versions"]
    assert any(v["Version"] != "$LATEST" for v in versions), "no published version"
    role, statements = _role(iam, _physical(cfn, "sd-edge", "EdgeFunctionRole"))
    assert _principals(role) == {"lambda.amazonaws.com", "edgelambda.amazonaws.com"}
    assert _actions(statements) == {
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert not iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]


def test_collector_task_role_may_only_put_records_and_objects(stacks, aws_env):
    cfn, iam = boto3.client("cloudformation"), boto3.client("iam")
    role, statements = _role(iam, _physical(cfn, "sd-collector", "TaskRole"))
    assert _principals(role) == {"ecs-tasks.amazonaws.com"}
    assert _actions(statements) == {"kinesis:PutRecords", "s3:PutObject"}
    resources = {s["Resource"] for s in statements}
    assert resources == {
        f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/captures",
        "arn:aws:s3:::capture-bucket/captures/*",
    }


def test_report_job_role_reads_captures_and_writes_only_reports(stacks, aws_env):
    cfn, iam = boto3.client("cloudformation"), boto3.client("iam")
    _, statements = _role(iam, _physical(cfn, "sd-report", "JobTaskRole"))
    writes = [s for s in statements if s["Action"] == "s3:PutObject"]
    assert [s["Resource"] for s in writes] == ["arn:aws:s3:::capture-bucket/reports/*"]
    _, statements = _role(iam, _physical(cfn, "sd-report", "ServiceTaskRole"))
    assert _actions(statements) == {"s3:ListBucket", "s3:GetObject"}


def test_what_moto_does_not_check(stacks):
    """Not a pass: moto skips these types, so no deployment here has checked them."""
    removed = {name: kind for _, cut in stacks.values() for name, kind in cut.items()}
    skipped = sorted({kind for kind in removed.values() if kind not in CHECKED_BY_MOTO})
    dependents = sorted(name for name, kind in removed.items() if kind in CHECKED_BY_MOTO)
    assert "AWS::CloudFront::Distribution" in skipped
    assert "AWS::KinesisFirehose::DeliveryStream" in skipped
    pytest.skip(
        "moto ignores these properties of resources it does create: "
        + ", ".join(IGNORED_BY_MOTO)
        + ". moto does not create these resource types, so they were removed before CreateStack "
        "and are checked only by cfn-lint and tests/infra/test_infra_templates.py: "
        + ", ".join(skipped)
        + "; removed with them because they refer to them: "
        + (", ".join(dependents) or "nothing")
    )
