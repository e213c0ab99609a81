"""The console site's security headers (infra/console_site.py), as the local gateway and CDK send them."""

from __future__ import annotations

import pytest

from infra.console_site import content_security_policy, security_headers


def directives(policy: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in policy.split("; "))}


def test_the_policy_allows_only_the_sites_own_files() -> None:
    policy = directives(content_security_policy())

    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


def test_the_api_and_cognito_origins_may_be_reached_by_fetch() -> None:
    api, cognito = "https://api.example.com", "https://shop.auth.eu-west-1.amazoncognito.com/"

    policy = directives(content_security_policy([api, cognito]))

    assert policy["connect-src"] == ["'self'", api, cognito.rstrip("/")]
    assert policy["script-src"] == ["'self'"]


@pytest.mark.parametrize(
    "origin", ["http://api.example.com", "https://a.example.com; script-src *", "https://x 'unsafe-inline'"]
)
def test_an_origin_that_would_widen_the_policy_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="not an origin"):
        content_security_policy([origin])


def test_hsts_only_over_https() -> None:
    assert "Strict-Transport-Security" in dict(security_headers())
    local = dict(security_headers(https=False))
    assert "Strict-Transport-Security" not in local
    assert local["X-Content-Type-Options"] == "nosniff"
    assert local["X-Frame-Options"] == "DENY"
    assert local["Referrer-Policy"] == "no-referrer"
