"""The live report in the report stack: one long-running `shadowdiff watch` task beside the job."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from infra_support import INFRA, load, render_sub, resources_of

REPORT = load(INFRA / "report.yaml")


def _container():
    task = resources_of(REPORT, "AWS::ECS::TaskDefinition")["WatchTaskDefinition"]
    [container] = task["Properties"]["ContainerDefinitions"]
    return task["Properties"], container


def test_watch_runs_as_one_long_running_service_never_two_at_once():
    service = resources_of(REPORT, "AWS::ECS::Service")["WatchService"]["Properties"]
    assert service["TaskDefinition"] == {"Ref": "WatchTaskDefinition"}
    assert service["DeploymentConfiguration"] == {"MaximumPercent": 100, "MinimumHealthyPercent": 0}
    assert REPORT["Parameters"]["WatchDesiredCount"]["MaxValue"] == 1
    assert "LoadBalancers" not in service
    task, container = _container()
    assert task["TaskRoleArn"] == {
        "Fn::GetAtt": ["JobTaskRole", "Arn"]
    }  # reads captures, writes reports
    assert container["StopTimeout"] >= 60  # SIGTERM: the tick in progress ends first


def test_watch_command_reads_the_captures_and_keeps_reports_live(tmp_path: Path):
    _, container = _container()
    assert container["EntryPoint"] == ["sh", "-c"]
    [command] = container["Command"]
    script = render_sub(
        command["Fn::Sub"],
        {
            "CaptureBucketName": "b",
            "CapturePrefix": "captures",
            "ReportsPrefix": "reports",
            "WatchEvery": "60",
            "WatchWindow": "1h",
            "MetricsPort": "9108",
            "WatchArgs": "--fail-on 'status_mismatch_rate > 0.01'",
        },
    )
    log = tmp_path / "argv"
    fake = tmp_path / "shadowdiff"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {log}\n')
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(["sh", "-c", script], env=env, check=True, timeout=20)
    assert log.read_text().splitlines() == [
        "watch", "--records", "s3://b/captures", "--reports", "s3://b/reports",
        "--every", "60", "--window", "1h", "--metrics-port", "9108", "--metrics-host", "0.0.0.0",
        "--fail-on", "status_mismatch_rate > 0.01",
    ]  # fmt: skip


def test_the_alert_webhook_comes_from_a_secret_only_when_one_is_given():
    _, container = _container()
    secrets = container["Secrets"]["Fn::If"]
    assert secrets[0] == "HasAlertWebhook"
    assert secrets[1] == [
        {"Name": "SHADOWDIFF_ALERT_WEBHOOK", "ValueFrom": {"Ref": "AlertWebhookSecretArn"}}
    ]
    assert secrets[2] == {"Ref": "AWS::NoValue"}
    assert "--alert-webhook" not in str(container["Command"])
    policy = resources_of(REPORT, "AWS::IAM::Policy")["AlertWebhookSecretPolicy"]
    assert policy["Condition"] == "HasAlertWebhook"
    assert policy["Properties"]["Roles"] == [{"Ref": "ExecutionRole"}]
    group = resources_of(REPORT, "AWS::EC2::SecurityGroup")["WatchSecurityGroup"]["Properties"]
    [rule] = group["SecurityGroupIngress"]
    assert rule["FromPort"] == {"Ref": "MetricsPort"} and rule["CidrIp"] == {"Ref": "AllowedCidr"}
