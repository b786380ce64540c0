"""Pure mirror rules: sampling, filters, query and header transforms, signing."""

from __future__ import annotations

import hashlib
import uuid

from edge_support import load_event

from edge import event as events
from edge import signing
from edge.config import parse_config
from edge.mirror import build, sample_point, sampled, selected, transform_query, wire_safe


def config(**extra):
    return parse_config(
        {"targets": [{"url": "http://127.0.0.1:9", "role": "shadow", "sample_rate": 1.0}], **extra}
    )


def split(payload: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, body = payload.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    headers = [(k, v) for k, _, v in (line.partition(": ") for line in lines[1:])]
    return lines[0], headers, body


def test_sampling_is_a_function_of_the_correlation_id_only():
    ids = [str(uuid.UUID(int=i)) for i in range(2000)]
    assert [sampled(i, 0.3) for i in ids] == [sampled(i, 0.3) for i in ids]
    expected = int.from_bytes(hashlib.sha256(ids[0].encode()).digest()[:8], "big") / 2**64
    assert sample_point(ids[0]) == expected


def test_targets_with_equal_rates_get_the_same_requests_and_the_rate_is_respected():
    cfg = parse_config(
        {
            "targets": [
                {"url": "http://127.0.0.1:1", "role": "shadow", "sample_rate": 0.25},
                {"url": "http://127.0.0.1:2", "role": "secondary", "sample_rate": 0.25},
            ]
        }
    )
    base = load_event("get-no-body.json")
    chosen = []
    for i in range(2000):
        base["Records"][0]["cf"]["config"]["requestId"] = f"id-{i}"
        mirrors = build(cfg, events.parse(base), 0)
        assert len(mirrors) in (0, 2)
        chosen.append(bool(mirrors))
    assert 0.2 < sum(chosen) / len(chosen) < 0.3
    assert not any(sampled("x", 0.0) for _ in range(3)) and sampled("x", 1.0)


def test_method_allowlist_and_path_filters():
    cfg = config(methods=["GET"], include_paths=["^/api/"], exclude_paths=["/health$"])
    assert selected(cfg, "GET", "/api/users")
    assert not selected(cfg, "POST", "/api/users")
    assert not selected(cfg, "GET", "/static/app.js")
    assert not selected(cfg, "GET", "/api/health")


def test_query_is_kept_byte_for_byte_and_set_keys_are_replaced_or_appended():
    query = "tag=a&tag=b&q=caf%C3%A9+au+lait&empty=&flag"
    assert transform_query(query, ()) == query
    assert transform_query(query, (("tag", "z"),)) == "tag=z&q=caf%C3%A9+au+lait&empty=&flag"
    assert transform_query(query, (("shadow", "1 2"),)) == query + "&shadow=1%202"
    assert transform_query("", (("a", "b"),)) == "a=b"
    assert transform_query("caf%C3%A9=1", (("café", "2"),)) == "caf%C3%A9=2"


def test_what_cannot_go_raw_on_a_request_line_is_percent_encoded():
    assert wire_safe("/a%20b/c?d") == "/a%20b/c?d"
    assert wire_safe("/a b\r\n") == "/a%20b%0D%0A"
    assert wire_safe("/é#x") == "/%C3%A9%23x"


def test_mirror_carries_method_uri_query_headers_body_and_the_edge_headers():
    ev = load_event("post-base64-body.json")
    mirrors = build(config(), events.parse(ev), 1_700_000_000)
    line, headers, body = split(mirrors[0].payload)
    assert line == "POST /orders?dry_run=1 HTTP/1.1"
    assert body == b'{"sku":"A-1","quantity":2}\n'
    h = dict(headers)
    assert h["host"] == "127.0.0.1:9"
    assert h["x-forwarded-host"] == "d111111abcdef8.cloudfront.net"
    assert h["x-shadow-role"] == "shadow"
    assert h["x-shadow-correlation-id"] == ev["Records"][0]["cf"]["config"]["requestId"]
    assert h["content-length"] == str(len(body))
    assert h["content-type"] == "application/json"
    assert "x-shadow-body-truncated" not in h and "x-shadow-signature" not in h


def test_signature_covers_the_mirror_as_sent_and_verifies_with_the_shared_module():
    ev = load_event("get-repeated-query.json")
    cfg = config(signing_secret="s3cret", mirror_query={"set": {"tag": "shadow"}})
    viewer = events.parse(ev)
    line, headers, body = split(build(cfg, viewer, 1_700_000_000)[0].payload)
    h = dict(headers)
    target = line.split(" ")[1]
    uri, _, query = target.partition("?")
    assert query == "tag=shadow&q=caf%C3%A9+au+lait&empty=&flag&sort=price%2Cdesc"
    assert h["x-shadow-timestamp"] == "1700000000"
    reason = signing.verify(
        "s3cret",
        timestamp=h["x-shadow-timestamp"],
        signature=h["x-shadow-signature"],
        correlation_id=viewer.request_id,
        method="GET",
        uri=uri,
        query=query,
        body=body,
        now=1_700_000_010,
    )
    assert reason is None
    expected = signing.sign("s3cret", "1700000000", viewer.request_id, "GET", uri, query, b"")
    assert h["x-shadow-signature"] == expected


def test_header_transforms_apply_to_the_mirror_only_and_viewer_spoofs_are_dropped():
    ev = load_event("get-viewer-sent-shadow-headers.json")
    cfg = config(
        mirror_headers={
            "set": {"x-env": "shadow", "Accept": "application/json"},
            "remove": ["cookie"],
        }
    )
    _, headers, _ = split(build(cfg, events.parse(ev), 0)[0].payload)
    names = [k for k, _ in headers]
    h = dict(headers)
    assert "cookie" not in names
    assert h["x-env"] == "shadow" and h["accept"] == "application/json"
    assert names.count("accept") == 1
    assert h["x-shadow-correlation-id"] == ev["Records"][0]["cf"]["config"]["requestId"]
    assert names.count("x-shadow-correlation-id") == 1
    assert h["x-shadow-role"] == "shadow" and names.count("x-shadow-role") == 1
    assert h["x-forwarded-host"] == "d111111abcdef8.cloudfront.net"
    assert "x-shadow-signature" not in h
    # the event itself is untouched by building mirrors
    assert "cookie" in ev["Records"][0]["cf"]["request"]["headers"]


def test_repeated_viewer_headers_stay_separate_lines():
    ev = load_event("get-viewer-sent-shadow-headers.json")
    _, headers, _ = split(build(config(), events.parse(ev), 0)[0].payload)
    assert [v for k, v in headers if k == "cookie"] == ["a=1", "b=2"]


def test_truncated_body_is_flagged_and_text_bodies_are_utf8():
    truncated = build(config(), events.parse(load_event("post-truncated-body.json")), 0)
    _, headers, body = split(truncated[0].payload)
    assert dict(headers)["x-shadow-body-truncated"] == "1"
    assert body == bytes(range(256)) * 4
    text = build(config(), events.parse(load_event("post-text-body.json")), 0)
    assert split(text[0].payload)[2] == b"user=ana&note=ol%C3%A1"


def test_no_body_key_means_an_empty_body_and_no_content_length_for_get():
    _, headers, body = split(
        build(config(), events.parse(load_event("get-no-body.json")), 0)[0].payload
    )
    assert body == b"" and "content-length" not in dict(headers)
    _, headers, body = split(
        build(config(), events.parse(load_event("delete-no-include-body.json")), 0)[0].payload
    )
    assert body == b"" and "content-length" not in dict(headers)
