"""The pure entry points other components call: diff_pair, stats, endpoint names, config."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_helpers import pair, rec, report_for

from analysis.config import settings_from_obj
from analysis.core.endpoints import endpoint_name
from analysis.core.pairdiff import diff_pair
from analysis.core.settings import ReportSettings
from analysis.core.stats import verdict
from shadowdiff.model.errors import ConfigError


def test_diff_pair_flags_rule_known_and_per_pair_secondary_noise():
    settings = settings_from_obj({"ignore": [{"endpoint": "*", "paths": ["$.t"]}]})
    p = rec("a", "primary", body={"t": 1, "a": 1, "b": 1, "c": 1})
    s = rec("a", "shadow", body={"t": 2, "a": 2, "b": 2, "c": 2})
    x = rec("a", "secondary", body={"t": 1, "a": 1, "b": 3, "c": 1})
    got = {
        d.path: (d.kind, d.noise_reason)
        for d in diff_pair(p, s, x, settings, {("$.c", "changed"): "auto"})
    }
    assert got == {
        "$.t": ("changed", "rule"),
        "$.a": ("changed", None),
        "$.b": ("changed", "secondary"),
        "$.c": ("changed", "auto"),
    }
    assert diff_pair(p, rec("a", "shadow", status=None), None, ReportSettings()) == []
    assert diff_pair(None, s, None, ReportSettings()) == []
    d = diff_pair(p, s, None, ReportSettings())[0].to_dict()
    assert set(d) == {"path", "kind", "primary", "shadow", "noise", "noise_reason"}


def test_latency_percentiles_are_numpy_linear_and_unrounded(tmp_path):
    lat = [10.123456, 11.5, 13.25, 17.0, 10.0] * 5
    recs = [
        r for i, v in enumerate(lat) for r in pair(f"c{i}", {}, {}, latency=v, s_latency=v * 1.01)
    ]
    ep = report_for(tmp_path, recs)["endpoints"][0]
    assert ep["latency_ms"]["primary"]["p90"] == float(np.percentile(lat, 90))
    assert ep["latency_ms"]["shadow"]["p99"] == float(np.percentile([v * 1.01 for v in lat], 99))


@pytest.mark.parametrize(
    ("n", "p", "pm", "sm", "expected"),
    [
        (19, 0.0, 10, 100, "insufficient_data"),
        (20, 0.0, 10, 100, "slower"),
        (20, 0.0, 100, 10, "faster"),
        (20, 0.02, 10, 100, "same"),  # not significant
        (20, 0.0, 100, 105, "same"),  # 5 % is not more than 5 %
        (20, 0.0, 100, 105.1, "slower"),
    ],
)
def test_verdict_rules(n, p, pm, sm, expected):
    assert verdict(n, p, pm, sm, alpha=0.01, min_effect=0.05) == expected


def test_routes_need_the_same_segment_count_and_equal_literals():
    routes = ("/users/{id}", "/items/{sku}/reviews")
    assert endpoint_name("get", "/users/abc", routes) == "GET /users/{id}"
    assert endpoint_name("get", "/users/abc/x", routes) == "GET /users/abc/x"
    assert endpoint_name("get", "/items/X-1/reviews", routes) == "GET /items/{sku}/reviews"
    assert endpoint_name("get", "/items/X-1/other", routes) == "GET /items/X-1/other"
    assert endpoint_name("delete", "/a/DEADBEEFDEADBEEF/b") == "DELETE /a/{hex}/b"
    assert (
        endpoint_name("get", "/a/deadbeefdeadbee/b") == "GET /a/deadbeefdeadbee/b"
    )  # 15 hex: not {hex}


def test_config_defaults_and_extras():
    s = settings_from_obj(
        {
            "ignore_headers": ["Cache-Control"],
            "compare_headers": ["content-type", "cache-control", "etag"],
            "secondary_noise": {"absolute": 0.1, "relative": 1.0},
            "examples": 3,
        }
    )
    assert s.headers_to_compare() == ("content-type", "etag")
    assert (s.secondary_absolute, s.secondary_relative, s.examples_per_reason) == (0.1, 1.0, 3)
    assert ReportSettings().headers_to_compare() == ("content-type", "cache-control", "location")
    with pytest.raises(ConfigError, match="examples"):
        settings_from_obj({"examples": 0})
