"""The handler never raises into CloudFront: bad events, bad configs, anything."""

from __future__ import annotations

import json
from typing import Any

import pytest
from edge_support import config_for, load_event, request_of
from edge_targets import Target
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge import handler as edge_handler
from edge.config import EdgeConfigError
from edge.handler import make_handler
from edge.pool import Pool


@pytest.fixture(scope="module")
def fast_module():
    target = Target("fast")
    yield target
    target.close()


@pytest.fixture
def baked_config(tmp_path, monkeypatch):
    """Points the Lambda entry point at a config.json of the test's making."""
    path = tmp_path / "config.json"
    monkeypatch.setattr(edge_handler, "CONFIG_PATH", path)
    monkeypatch.setattr(edge_handler, "_default", None)
    return path


def lines(capsys) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_entry_point_reads_config_json_beside_the_module(baked_config, fast_module, capsys):
    baked_config.write_text(json.dumps(config_for(fast_module.url)))
    before = len(fast_module.requests)
    event = load_event("get-no-body.json")
    returned = edge_handler.handler(event, None)
    assert returned is request_of(event)
    assert len(fast_module.requests) == before + 1
    assert lines(capsys) == []


@pytest.mark.parametrize("content", [None, "{not json", json.dumps({"targets": []})])
def test_missing_or_invalid_config_passes_requests_through_and_logs(baked_config, capsys, content):
    if content is not None:
        baked_config.write_text(content)
    for _ in range(3):
        event = load_event("post-base64-body.json")
        untouched = load_event("post-base64-body.json")
        returned = edge_handler.handler(event, None)
        assert returned == request_of(untouched)
    (line,) = lines(capsys)  # logged once per cold start, not per request
    assert line["level"] == "error" and "config" in line["message"]


def test_make_handler_rejects_a_bad_config_by_key():
    with pytest.raises(EdgeConfigError, match=r"^budget_ms"):
        make_handler({"targets": [{"url": "http://127.0.0.1:1"}], "budget_ms": -1})


def test_event_without_request_id_is_returned_untouched_and_logged(fast_module, capsys):
    event = load_event("get-no-body.json")
    del event["Records"][0]["cf"]["config"]["requestId"]
    untouched = request_of(load_event("get-no-body.json"))
    returned = make_handler(config_for(fast_module.url), pool=Pool())(event, None)
    assert returned == untouched
    assert "requestId" in lines(capsys)[0]["message"]


def test_bad_base64_body_is_tagged_returned_and_logged(fast_module, capsys):
    event = load_event("post-base64-body.json")
    request_of(event)["body"]["data"] = "not base64!"
    returned = make_handler(config_for(fast_module.url), pool=Pool())(event, None)
    assert returned is request_of(event)
    assert "x-shadow-correlation-id" in returned["headers"]
    (line,) = lines(capsys)
    assert line["level"] == "error" and "request.body.data" in line["message"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

header_maps = st.dictionaries(
    st.text(max_size=12),
    st.lists(
        st.fixed_dictionaries({"key": st.text(max_size=12), "value": st.text(max_size=30)})
        | json_values,
        max_size=3,
    )
    | json_values,
    max_size=5,
)

shaped_events = st.fixed_dictionaries(
    {
        "Records": st.lists(
            st.fixed_dictionaries(
                {
                    "cf": st.fixed_dictionaries(
                        {
                            "config": st.fixed_dictionaries(
                                {"requestId": st.text(max_size=40) | json_values}
                            ),
                            "request": st.fixed_dictionaries(
                                {
                                    "method": st.sampled_from(["GET", "POST", "HEAD"])
                                    | st.text(max_size=8),
                                    "uri": st.text(max_size=30).map(lambda s: "/" + s)
                                    | json_values,
                                    "querystring": st.text(max_size=30) | json_values,
                                    "headers": header_maps,
                                },
                                optional={
                                    "body": st.fixed_dictionaries(
                                        {},
                                        optional={
                                            "data": st.text(max_size=40) | json_values,
                                            "encoding": st.sampled_from(["base64", "text", "gzip"]),
                                            "inputTruncated": json_values,
                                        },
                                    )
                                    | json_values
                                },
                            ),
                        }
                    )
                }
            ),
            min_size=1,
            max_size=2,
        )
    }
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=json_values | shaped_events)
def test_any_event_shape_never_raises_and_returns_its_request(fast_module, event):
    handler = make_handler(config_for(fast_module.url, budget_ms=50))
    try:
        expected = event["Records"][0]["cf"]["request"]
    except (KeyError, IndexError, TypeError):
        expected = None
    returned = handler(event, None)
    if isinstance(expected, dict):
        assert returned is expected
    else:
        assert returned is None
