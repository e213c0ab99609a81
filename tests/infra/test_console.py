"""The back-office console on AWS: a private bucket only CloudFront reads, the console's headers, its
Cognito app client and the config.json the pages fetch."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from infra import catalog
from infra.aws.console import _PATHS_FUNCTION, CONSOLE_PATH
from infra.console_site import OTHER_HEADERS, SECURITY_HEADERS, content_security_policy
from tests.infra.stacks import Stage, Synth, as_list, ref


def _api_origin(stage: Stage, region: str) -> str:
    return f"https://{stage.logical_id('Api/RestApi/Resource')}.execute-api.{region}.AWS::URLSuffix"


def _sign_in_domain(stage: Stage, region: str) -> str:
    return f"https://{stage.logical_id('Api/UserPool/Domain/Resource')}.auth.{region}.amazoncognito.com"


def _console_url(stage: Stage) -> str:
    return f"https://{stage.logical_id('Console/Distribution/Resource')}.DomainName/{CONSOLE_PATH}"


def test_the_bucket_is_private_and_encrypted(stage: Stage) -> None:
    props = stage.at("Console/Bucket/Resource")[1]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # no ACLs
    assert "WebsiteConfiguration" not in props


def test_only_the_distribution_reads_the_bucket_and_only_over_tls(stage: Stage) -> None:
    bucket = stage.logical_id("Console/Bucket/Resource")
    (policy,) = [
        p["Properties"]
        for p in stage.of_type("AWS::S3::BucketPolicy").values()
        if ref(p["Properties"]["Bucket"]) == bucket
    ]
    statements = policy["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    denies = [s for s in statements if s["Effect"] == "Deny"]
    distribution = stage.logical_id("Console/Distribution/Resource")
    assert allows == [
        {
            "Action": "s3:GetObject",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Resource": allows[0]["Resource"],
            "Effect": "Allow",
            "Condition": allows[0]["Condition"],
        }
    ]
    assert ref(allows[0]["Resource"]) == f"{bucket}.Arn/*"
    (source,) = allows[0]["Condition"]["StringEquals"].values()
    assert list(allows[0]["Condition"]["StringEquals"]) == ["AWS:SourceArn"]
    assert ref(source) == f"arn:AWS::Partition:cloudfront::AWS::AccountId:distribution/{distribution}"
    (tls,) = denies
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Nothing else in the stack grants the bucket to anyone, or to everyone.
    assert not any(s.get("Principal") in ("*", {"AWS": "*"}) for s in allows)


def test_the_distribution_reaches_the_bucket_through_origin_access_control(stage: Stage) -> None:
    config = stage.at("Console/Distribution/Resource")[1]["Properties"]["DistributionConfig"]
    (origin,) = config["Origins"]
    assert ref(origin["DomainName"]) == f"{stage.logical_id('Console/Bucket/Resource')}.RegionalDomainName"
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # not the legacy OAI
    oac = stage.resources[ref(origin["OriginAccessControlId"]).removesuffix(".Id")]
    assert oac["Type"] == "AWS::CloudFront::OriginAccessControl"
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == f"{CONSOLE_PATH}index.html"


def headers_policy(stage: Stage) -> dict[str, Any]:
    config = stage.at("Console/Distribution/Resource")[1]["Properties"]["DistributionConfig"]
    policy = stage.resources[ref(config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"])]
    headers: dict[str, Any] = policy["Properties"]["ResponseHeadersPolicyConfig"]
    return headers


def security_headers_config(stage: Stage) -> dict[str, Any]:
    config: dict[str, Any] = headers_policy(stage)["SecurityHeadersConfig"]
    return config


def test_every_response_carries_the_console_site_policy(stage: Stage, synth: Synth) -> None:
    """Exactly what infra/console_site.py says, allowing the API and Cognito's sign-in domain only."""
    headers = security_headers_config(stage)
    assert {name: value.get("Override") for name, value in headers.items()} == dict.fromkeys(
        (
            "ContentSecurityPolicy",
            "StrictTransportSecurity",
            "ContentTypeOptions",
            "ReferrerPolicy",
            "FrameOptions",
        ),
        True,
    )
    csp = ref(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert csp == content_security_policy(
        [_api_origin(stage, synth.region), _sign_in_domain(stage, synth.region)]
    )
    hsts = headers["StrictTransportSecurity"]
    sent = {
        "Strict-Transport-Security": f"max-age={hsts['AccessControlMaxAgeSec']}"
        + ("; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
        + ("; preload" if hsts.get("Preload") else ""),
        "X-Content-Type-Options": "nosniff",  # the one value CloudFront has for it
        "Referrer-Policy": headers["ReferrerPolicy"]["ReferrerPolicy"],
        "X-Frame-Options": headers["FrameOptions"]["FrameOption"],
    }
    assert sent == SECURITY_HEADERS
    custom = headers_policy(stage)["CustomHeadersConfig"]["Items"]
    assert {h["Header"]: h["Value"] for h in custom} == OTHER_HEADERS


def test_the_policy_allows_nothing_beyond_its_own_origin_and_the_given_ones() -> None:
    csp = content_security_policy(["https://api.example.com"])
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no inline script, no eval
    assert directives["connect-src"] == "'self' https://api.example.com"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in csp


def test_the_console_client_is_public_with_the_code_flow_only(stage: Stage) -> None:
    client = stage.at("Api/UserPool/ConsoleClient/Resource")[1]["Properties"]
    assert client.get("GenerateSecret") is False
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no password flow of its own
    assert client["AllowedOAuthScopes"] == ["openid", catalog.USER_SCOPE]
    assert [ref(url) for url in client["CallbackURLs"]] == [_console_url(stage)]
    assert [ref(url) for url in client["LogoutURLs"]] == [_console_url(stage)]
    assert client["SupportedIdentityProviders"] == ["COGNITO"]
    assert client["AccessTokenValidity"] <= 60
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert ref(client["UserPoolId"]) == stage.logical_id("Api/UserPool/Resource")


def test_the_api_takes_the_console_s_access_tokens(stage: Stage) -> None:
    """The authorizer trusts the pool (any of its clients) and asks for USER_SCOPE, which the console's
    access tokens carry; the admin group's rights come from the token's groups (payments/http/auth.py)."""
    assert catalog.USER_SCOPE in catalog.API_SCOPES
    pool = stage.logical_id("Api/UserPool/Resource")
    for authorizer in stage.of_type("AWS::ApiGateway::Authorizer").values():
        assert [ref(arn) for arn in authorizer["Properties"]["ProviderARNs"]] == [f"{pool}.Arn"]
    for method in stage.of_type("AWS::ApiGateway::Method").values():
        if method["Properties"]["AuthorizationType"] == "COGNITO_USER_POOLS":
            assert catalog.USER_SCOPE in method["Properties"]["AuthorizationScopes"]


def deployed_config(stage: Stage, synth: Synth) -> dict[str, Any]:
    """config.json as the deployment writes it: the asset's text with each marker replaced by the
    readable form of the value CloudFormation puts there."""
    deployment = stage.at("Console/Deploy/CustomResource/Default", "Custom::CDKBucketDeployment")[1]
    props = deployment["Properties"]
    assert props["DestinationBucketKeyPrefix"] == CONSOLE_PATH
    assert ref(props["DestinationBucketName"]) == stage.logical_id("Console/Bucket/Resource")
    for key, markers in zip(props["SourceObjectKeys"], props["SourceMarkers"], strict=True):
        folder = synth.outdir / f"asset.{key.removesuffix('.zip')}"
        if (folder / "config.json").is_file() and markers:
            text = (folder / "config.json").read_text()
            for marker, value in markers.items():
                text = text.replace(marker, json.dumps(ref(value).strip('"')))
            parsed: dict[str, Any] = json.loads(text)
            return parsed
    raise AssertionError("no config.json among the deployment's sources")


def test_config_json_points_at_the_api_and_the_sign_in(stage: Stage, synth: Synth) -> None:
    config = deployed_config(stage, synth)
    stage_ref = stage.logical_id("Api/RestApi/DeploymentStage.v1/Resource")
    assert config == {
        "api_base": f"{_api_origin(stage, synth.region)}/{stage_ref}",
        "auth": {
            "kind": "cognito",
            "domain": _sign_in_domain(stage, synth.region),
            "client_id": stage.logical_id("Api/UserPool/ConsoleClient/Resource"),
            "redirect_uri": _console_url(stage),
            "scopes": ["openid", catalog.USER_SCOPE],
        },
    }
    assert stage.at("Api/RestApi/DeploymentStage.v1/Resource")[1]["Properties"]["StageName"] == "v1"


def test_the_pages_revalidate_and_leave_with_the_stack(stage: Stage) -> None:
    props = stage.at("Console/Deploy/CustomResource/Default", "Custom::CDKBucketDeployment")[1]["Properties"]
    assert props["SystemMetadata"] == {"cache-control": "no-cache"}
    assert props["RetainOnDelete"] is False
    assert props["Prune"] is True


def test_the_console_url_is_an_output(stage: Stage) -> None:
    assert ref(stage.template["Outputs"]["ConsoleUrl"]["Value"]) == _console_url(stage)


def test_the_deployment_function_acts_on_the_console_bucket_and_cdk_s_assets_only(stage: Stage) -> None:
    """CDK's BucketDeployment function reads CDK's assets bucket and writes the console's bucket: its
    role holds nothing else (its logs go to the console's DeployLogs group, by the managed policy)."""
    (role_id,) = [
        logical_id
        for logical_id, role in stage.of_type("AWS::IAM::Role").items()
        if "CDKBucketDeployment" in role["Metadata"]["aws:cdk:path"]
    ]
    bucket = stage.logical_id("Console/Bucket/Resource")
    written: set[str] = set()
    for policy in stage.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            resources = as_list(statement["Resource"])
            if all("-assets-${AWS::AccountId}-" in json.dumps(r) for r in resources):
                assert all(a.startswith(("s3:Get", "s3:List")) for a in as_list(statement["Action"]))
            else:
                written |= {ref(r) for r in resources}
    assert written == {f"{bucket}.Arn", f"{bucket}.Arn/*"}


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs CloudFront's function here")
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/", {"redirect": f"/{CONSOLE_PATH}"}),
        ("/console", {"redirect": f"/{CONSOLE_PATH}"}),
        ("/console/", {"uri": f"/{CONSOLE_PATH}index.html"}),
        ("/console/app.js", {"uri": f"/{CONSOLE_PATH}app.js"}),
        ("/console/payments/", {"uri": f"/{CONSOLE_PATH}payments/index.html"}),
    ],
)
def test_the_paths_function(uri: str, expected: dict[str, str]) -> None:
    """The viewer-request function's code, run in node as CloudFront's JS runtime would."""
    script = (
        _PATHS_FUNCTION
        + f"var out = handler({{request: {{uri: {json.dumps(uri)}, headers: {{}}}}}});\n"
        + "console.log(JSON.stringify(out.statusCode ? {redirect: out.headers.location.value, "
        + "status: out.statusCode} : {uri: out.uri}));\n"
    )
    done = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "redirect" in expected:
        assert result == {**expected, "status": 302}
    else:
        assert result == expected
