"""What the templates promise, read from the templates themselves.

These cover what neither cfn-lint nor moto can: that Firehose's partition keys,
computed by the real ``jq`` from a real capture line, land in the contract's layout;
that Athena's projection reads the same paths; that the nightly task's shell
command asks for the previous UTC day; that secrets never appear in plain text.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from infra_support import INFRA, TEMPLATES, load, render_sub, resources_of

from shadowdiff.model.layout import partition_bucket, partition_dir
from shadowdiff.model.record import ROLES, CaptureRecord, CaptureRequest, CaptureResponse
from shadowdiff.model.validate import json_schema

CAPTURE = load(INFRA / "capture.yaml")
EDGE = load(INFRA / "edge.yaml")
COLLECTOR = load(INFRA / "collector.yaml")
REPORT = load(INFRA / "report.yaml")


def _one(template, kind):
    found = list(resources_of(template, kind).values())
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]["Properties"]


def _firehose():
    return _one(CAPTURE, "AWS::KinesisFirehose::DeliveryStream")[
        "ExtendedS3DestinationConfiguration"
    ]


def _jq_query(buckets: int = 16) -> str:
    processors = _firehose()["ProcessingConfiguration"]["Processors"]
    extraction = next(p for p in processors if p["Type"] == "MetadataExtraction")
    params = {p["ParameterName"]: p["ParameterValue"] for p in extraction["Parameters"]}
    assert params["JsonParsingEngine"] == "JQ-1.6"
    return render_sub(
        params["MetadataExtractionQuery"]["Fn::Sub"], {"CaptureBuckets": str(buckets)}
    )


def _jq_keys(line: bytes, buckets: int = 16) -> dict[str, str]:
    return json.loads(
        subprocess.run(
            ["jq", "-c", _jq_query(buckets)],
            input=line,
            capture_output=True,
            check=True,
            timeout=10,
        ).stdout
    )


def _record(role: str, captured_at: str) -> CaptureRecord:
    return CaptureRecord(
        correlation_id="Yx3Q-abc",
        role=role,  # type: ignore[arg-type]
        captured_at=captured_at,
        request=CaptureRequest(method="GET", path="/users/42"),
        response=CaptureResponse(status=200, body='{"id": 42}', body_size=10),
        latency_ms=12.5,
    )


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs the jq binary")
@pytest.mark.parametrize("role", ROLES)
def test_firehose_partitions_a_real_capture_line_into_the_contract_layout(role):
    captured_at = "2026-11-25T07:01:02.123Z"
    line = _record(role, captured_at).to_line()
    assert line.endswith(b"\n"), "one newline-terminated record per Kinesis record"
    keys = _jq_keys(line)
    prefix = render_sub(_firehose()["Prefix"]["Fn::Sub"], {"CapturePrefix": "captures"})
    rendered = re.sub(r"!\{partitionKeyFromQuery:(\w+)\}", lambda m: keys[m.group(1)], prefix)
    moment = datetime(2026, 11, 25, 7, 1, 2, 123000, tzinfo=UTC)
    bucket = partition_bucket("Yx3Q-abc", 16)
    assert rendered == f"captures/{partition_dir(role, moment, bucket)}/"


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs the jq binary")
@pytest.mark.parametrize("buckets", [1, 7, 16, 100])
def test_firehose_bucket_key_is_the_python_partition_bucket_of_the_correlation_id(buckets):
    ids = ["Yx3Q-abc", "a", "zz-ÿ-€-😀", "EDFDVBD6EXAMPLE-" + "x" * 40, "12345"]
    base = _record("shadow", "2026-11-25T23:59:59.999Z")
    lines = b"".join(dataclasses.replace(base, correlation_id=cid).to_line() for cid in ids)
    out = subprocess.run(
        ["jq", "-c", _jq_query(buckets)], input=lines, capture_output=True, check=True, timeout=10
    ).stdout.splitlines()
    got = [json.loads(x)["bucket"] for x in out]
    assert got == [f"{partition_bucket(cid, buckets):02d}" for cid in ids]


def test_firehose_writes_gzipped_json_lines_and_keeps_failures_apart():
    firehose = _firehose()
    assert firehose["CompressionFormat"] == "GZIP"
    assert firehose["FileExtension"] == ".jsonl.gz"
    assert firehose["DynamicPartitioningConfiguration"]["Enabled"] is True
    assert firehose["BufferingHints"]["SizeInMBs"] >= 64  # the dynamic-partitioning minimum
    errors = firehose["ErrorOutputPrefix"]["Fn::Sub"]
    assert "!{firehose:error-output-type}" in errors
    assert not errors.startswith("${CapturePrefix}/"), "failed records must not mix with captures"
    source = _one(CAPTURE, "AWS::KinesisFirehose::DeliveryStream")
    assert source["DeliveryStreamType"] == "KinesisStreamAsSource"


def test_athena_projection_reads_the_paths_firehose_writes():
    table = _one(CAPTURE, "AWS::Glue::Table")["TableInput"]
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.role.values"].split(",") == list(ROLES)
    assert params["projection.dt.format"] == "yyyy-MM-dd"
    assert (params["projection.hour.range"], params["projection.hour.digits"]) == ("0,23", "2")
    values = {"CaptureBucket": "b", "CapturePrefix": "captures"}
    location = render_sub(params["storage.location.template"]["Fn::Sub"], values)
    written = render_sub(_firehose()["Prefix"]["Fn::Sub"], values)
    as_projected = location.replace("${", "!{partitionKeyFromQuery:")
    assert "s3://b/" + written == as_projected
    assert [k["Name"] for k in table["PartitionKeys"]] == ["role", "dt", "hour", "bucket"]
    assert params["projection.bucket.digits"] == "2"
    index, ranges = params["projection.bucket.range"]["Fn::Select"]
    assert index == {"Ref": "CaptureBuckets"}
    assert all(ranges[n] == f"0,{n - 1}" for n in range(1, 101))
    assert CAPTURE["Parameters"]["CaptureBuckets"]["Default"] == 16


def test_glue_columns_are_the_capture_record_fields():
    columns = _one(CAPTURE, "AWS::Glue::Table")["TableInput"]["StorageDescriptor"]["Columns"]
    fields = set(json_schema()["properties"]) - {"role"}  # role is the partition column
    assert {c["Name"] for c in columns} == fields


def test_capture_bucket_is_private_encrypted_tls_only_and_expires_captures():
    bucket = _one(CAPTURE, "AWS::S3::Bucket")
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-raw-captures"]["ExpirationInDays"] == {"Ref": "CaptureRetentionDays"}
    policy = _one(CAPTURE, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
        for s in policy
    )


def test_capture_stream_is_on_demand():
    stream = _one(CAPTURE, "AWS::Kinesis::Stream")
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in stream


def test_edge_stack_refuses_any_region_but_us_east_1():
    assertion = EDGE["Rules"]["EdgeStackIsInUsEast1"]["Assertions"][0]["Assert"]
    assert assertion == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}


def _function_by_handler(handler: str) -> tuple[str, dict[str, Any]]:
    [(name, resource)] = [
        (n, r)
        for n, r in resources_of(EDGE, "AWS::Lambda::Function").items()
        if r["Properties"]["Handler"] == handler
    ]
    return name, resource["Properties"]


def _version_of(function: str) -> str:
    [version] = [
        n
        for n, r in resources_of(EDGE, "AWS::Lambda::Version").items()
        if r["Properties"]["FunctionName"] == {"Ref": function}
    ]
    return version


def test_edge_association_is_viewer_request_with_body_on_the_published_version():
    config = _one(EDGE, "AWS::CloudFront::Distribution")["DistributionConfig"]
    condition, association, otherwise = config["DefaultCacheBehavior"][
        "LambdaFunctionAssociations"
    ][0]["Fn::If"]
    name, function = _function_by_handler("edge.handler.handler")
    assert association == {
        "EventType": "viewer-request",
        "IncludeBody": True,
        "LambdaFunctionARN": {"Ref": _version_of(name)},
    }
    # EdgeMirror=off drops it: the primary tap is the mirror source instead
    assert (condition, otherwise) == ("EdgeMirrors", {"Ref": "AWS::NoValue"})
    assert EDGE["Conditions"]["EdgeMirrors"] == {"Fn::Equals": [{"Ref": "EdgeMirror"}, "on"]}
    assert EDGE["Parameters"]["EdgeMirror"]["Default"] == "on"
    assert re.fullmatch(r"python3\.1[2-9]", function["Runtime"])
    assert "Environment" not in function


def test_canary_split_is_an_origin_request_trigger_only_while_there_is_a_canary_origin():
    assert EDGE["Conditions"]["HasCanary"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CanaryOrigin"}, ""]}]
    }
    config = _one(EDGE, "AWS::CloudFront::Distribution")["DistributionConfig"]
    associations = config["DefaultCacheBehavior"]["LambdaFunctionAssociations"]
    assert len(associations) == 2
    name, function = _function_by_handler("edge.split.handler")
    assert associations[1] == {
        "Fn::If": [
            "HasCanary",
            {
                "EventType": "origin-request",
                "IncludeBody": False,
                "LambdaFunctionARN": {"Ref": _version_of(name)},
            },
            {"Ref": "AWS::NoValue"},
        ]
    }
    assert function["Code"] == _function_by_handler("edge.handler.handler")[1]["Code"]
    assert function["Timeout"] <= 30 and "Environment" not in function


def test_canary_weight_and_origin_reach_the_split_as_origin_custom_headers():
    weight = EDGE["Parameters"]["CanaryWeight"]
    assert weight["Default"] == "0"
    pattern = re.compile(weight["AllowedPattern"])
    assert all(pattern.match(v) for v in ("0", "0.05", "0.2", "1", "1.0"))
    assert not any(pattern.match(v) for v in ("1.5", "-0.1", "abc", "", "2"))
    config = _one(EDGE, "AWS::CloudFront::Distribution")["DistributionConfig"]
    [origin] = config["Origins"]
    headers = origin["OriginCustomHeaders"]["Fn::If"]
    assert headers[0] == "HasCanary" and headers[2] == {"Ref": "AWS::NoValue"}
    assert {h["HeaderName"]: h["HeaderValue"] for h in headers[1]} == {
        "x-shadowdiff-canary-weight": {"Ref": "CanaryWeight"},
        "x-shadowdiff-canary-origin": {"Ref": "CanaryOrigin"},
    }
    rule = EDGE["Rules"]["CanaryWeightNeedsAnOrigin"]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CanaryWeight"}, "0"]}]}


def test_promote_and_rollback_change_only_active_origin():
    assert EDGE["Parameters"]["ActiveOrigin"]["AllowedValues"] == ["blue", "green"]
    assert EDGE["Conditions"]["GreenIsActive"] == {"Fn::Equals": [{"Ref": "ActiveOrigin"}, "green"]}
    config = _one(EDGE, "AWS::CloudFront::Distribution")["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"] == {
        "Fn::If": ["GreenIsActive", {"Ref": "GreenOriginDomain"}, {"Ref": "BlueOriginDomain"}]
    }
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == origin["Id"]


def test_collector_runs_beside_the_app_in_the_role_the_stack_is_given():
    task = _one(COLLECTOR, "AWS::ECS::TaskDefinition")
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    containers = {c["Name"]: c for c in task["ContainerDefinitions"]}
    assert set(containers) == {"app", "collector"}
    for container in containers.values():
        assert container["PortMappings"] and container["LogConfiguration"]["LogDriver"] == "awslogs"
    command = containers["collector"]["Command"]
    assert command[:3] == ["collector", "--role", {"Ref": "CollectorRole"}]
    role = COLLECTOR["Parameters"]["CollectorRole"]
    assert role["Default"] == "shadow"
    assert role["AllowedValues"] == ["shadow", "secondary", "primary"]
    assert command[command.index("--upstream") + 1] == {"Fn::Sub": "http://127.0.0.1:${AppPort}"}
    signing, mirror = containers["collector"]["Secrets"]
    assert signing == {
        "Name": "SHADOWDIFF_SIGNING_SECRET",
        "ValueFrom": {"Ref": "SigningSecretArn"},
    }
    assert mirror == {
        "Fn::If": [
            "TapMirrors",
            {"Name": "SHADOWDIFF_MIRROR_CONFIG", "ValueFrom": {"Ref": "MirrorConfigSecretArn"}},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_the_primary_tap_can_be_the_mirror_source_with_its_config_from_secrets_manager():
    assert COLLECTOR["Conditions"]["TapMirrors"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "MirrorConfigSecretArn"}, ""]}]
    }
    [assertion] = COLLECTOR["Rules"]["MirrorConfigNeedsThePrimaryTap"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "CollectorRole"}, "primary"]}
    role = COLLECTOR["Resources"]["ExecutionRole"]["Properties"]
    [statement] = [
        s
        for p in role["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Action"] == "secretsmanager:GetSecretValue"
    ]
    assert {
        "Fn::If": ["TapMirrors", {"Ref": "MirrorConfigSecretArn"}, {"Ref": "AWS::NoValue"}]
    } in (statement["Resource"])


def test_no_secret_or_token_is_passed_as_plain_environment():
    for path in TEMPLATES:
        text = path.read_text()
        template = load(path)
        for task in resources_of(template, "AWS::ECS::TaskDefinition").values():
            for container in task["Properties"]["ContainerDefinitions"]:
                names = [e["Name"] for e in container.get("Environment", [])]
                assert not [n for n in names if re.search("SECRET|TOKEN", n)], (path, names)
        assert "--signing-secret" not in text and "--token" not in text, path


def _nightly_script() -> str:
    task = resources_of(REPORT, "AWS::ECS::TaskDefinition")["ReportJobTaskDefinition"]
    [container] = task["Properties"]["ContainerDefinitions"]
    assert container["EntryPoint"] == ["sh", "-c"]
    [command] = container["Command"]
    values = {"CaptureBucketName": "b", "CapturePrefix": "captures", "ReportsPrefix": "reports"}
    return render_sub(command["Fn::Sub"], {**values, "ReportArgs": ""})


def test_nightly_report_covers_the_previous_utc_day(tmp_path: Path):
    log = tmp_path / "argv"
    fake = tmp_path / "shadowdiff"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {log}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "TZ": "Asia/Tokyo"}
    for _ in range(3):  # run again if the UTC day turned over while it ran
        before = datetime.now(UTC).date()
        subprocess.run(["sh", "-c", _nightly_script()], env=env, check=True, timeout=20)
        if datetime.now(UTC).date() == before:
            break
    yesterday = before - timedelta(days=1)
    assert log.read_text().splitlines() == [
        "report",
        "--records",
        "s3://b/captures",
        "--since",
        f"{yesterday:%Y-%m-%d}T00:00:00Z",
        "--until",
        f"{before:%Y-%m-%d}T00:00:00Z",
        "--out",
        f"s3://b/reports/daily-{yesterday:%Y-%m-%d}",
    ]


def test_nightly_schedule_runs_the_report_task_on_fargate_in_utc():
    schedule = _one(REPORT, "AWS::Scheduler::Schedule")
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    ecs = schedule["Target"]["EcsParameters"]
    assert ecs["TaskDefinitionArn"] == {"Ref": "ReportJobTaskDefinition"}
    assert ecs["LaunchType"] == "FARGATE"


def test_report_service_serves_reports_over_https_with_a_secret_token():
    task = resources_of(REPORT, "AWS::ECS::TaskDefinition")["ServiceTaskDefinition"]
    [container] = task["Properties"]["ContainerDefinitions"]
    assert container["Command"][0] == "serve"
    assert {s["Name"] for s in container["Secrets"]} == {"SHADOWDIFF_TOKEN"}
    listener = _one(REPORT, "AWS::ElasticLoadBalancingV2::Listener")
    assert listener["Protocol"] == "HTTPS"
    assert listener["Certificates"] == [{"CertificateArn": {"Ref": "CertificateArn"}}]
    assert _one(REPORT, "AWS::ElasticLoadBalancingV2::TargetGroup")["HealthCheckPath"] == "/healthz"


def test_collector_metrics_are_not_public_but_mirrored_metrics_requests_pass():
    rules = sorted(
        (
            r["Properties"]
            for r in resources_of(COLLECTOR, "AWS::ElasticLoadBalancingV2::ListenerRule").values()
        ),
        key=lambda p: p["Priority"],
    )
    mirrored, public = rules
    assert {c["Field"] for c in mirrored["Conditions"]} == {"path-pattern", "http-header"}
    assert mirrored["Actions"][0]["Type"] == "forward"
    assert public["Conditions"][0]["PathPatternConfig"]["Values"] == ["/metrics"]
    assert public["Actions"][0]["FixedResponseConfig"]["StatusCode"] == "404"
