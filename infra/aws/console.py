"""The back-office console on AWS: its static pages in a private bucket behind CloudFront, a generated
config.json next to them, and the Cognito app client its hosted sign-in uses.

Only CloudFront reads the bucket (Origin Access Control: the bucket policy names the distribution). Every
response carries the console's Content-Security-Policy and security headers (infra/console_site.py, the
same the local server sends). The pages are public static files and config.json holds only public
identifiers (URLs, the app client id); everything of consequence happens on the API, which checks each
caller's token.
"""

from __future__ import annotations

from aws_cdk import DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra import catalog
from infra.aws.api import PaymentsApi, console_client
from infra.aws.config import StageConfig
from infra.aws.nag import acknowledge
from infra.console_site import HSTS_MAX_AGE_SECONDS, OTHER_HEADERS, SECURITY_HEADERS, content_security_policy

# The pages' path on the distribution (and their key prefix in the bucket).
CONSOLE_PATH = "console/"
CONFIG_FILE = "config.json"

# S3 serves no index document to CloudFront: `/` goes to the console, a folder to its index.html.
_PATHS_FUNCTION = f"""function handler(event) {{
  var request = event.request;
  if (request.uri === '/' || request.uri === '/{CONSOLE_PATH.rstrip("/")}') {{
    var location = {{ value: '/{CONSOLE_PATH}' }};
    return {{ statusCode: 302, statusDescription: 'Found', headers: {{ location: location }} }};
  }}
  if (request.uri.endsWith('/')) {{
    request.uri += 'index.html';
  }}
  return request;
}}
"""

# Why neither the bucket nor the distribution keeps access logs (cdk-nag here, checkov in checkov.py).
NO_ACCESS_LOGS = (
    "The console's pages are public static files, and config.json holds only public identifiers; "
    "who signed in is Cognito's record, and every call the console makes is in the API's access and "
    "WAF logs, with the caller's sub."
)


def _response_headers(scope: Construct, connect_origins: list[str]) -> cloudfront.ResponseHeadersPolicy:
    """SECURITY_HEADERS as CloudFront's typed settings (it refuses them as custom headers), OTHER_HEADERS
    as custom ones; the infra test reads both back and compares them with infra/console_site.py."""
    return cloudfront.ResponseHeadersPolicy(
        scope,
        "Headers",
        comment="The back-office console: CSP and security headers (infra/console_site.py)",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=content_security_policy(connect_origins), override=True
            ),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=Duration.seconds(HSTS_MAX_AGE_SECONDS),
                include_subdomains=True,
                override=True,
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy[
                    SECURITY_HEADERS["Referrer-Policy"].upper().replace("-", "_")
                ],
                override=True,
            ),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption[SECURITY_HEADERS["X-Frame-Options"]],
                override=True,
            ),
        ),
        custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
            custom_headers=[
                cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
                for name, value in OTHER_HEADERS.items()
            ]
        ),
    )


class ConsoleSite(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StageConfig,
        api: PaymentsApi,
        hosted_domain: cognito.UserPoolDomain,
    ) -> None:
        super().__init__(scope, id_)
        # S3-managed keys, not the service key: the content is public once served, and CloudFront's OAC
        # reading a KMS-encrypted object needs kms:Decrypt for the distribution on the key's policy,
        # which would name the distribution on the key that also guards the tables and secrets.
        # Destroyed with the stack on every stage: its content is rebuilt from the repository at deploy.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(self.bucket, "AwsSolutions-S1", NO_ACCESS_LOGS)

        api_and_sign_in = [api.origin, hosted_domain.base_url()]
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{catalog.SERVICE_NAME} back-office console ({config.stage})",
            default_root_object=f"{CONSOLE_PATH}index.html",  # the paths function redirects `/` first
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=_response_headers(self, api_and_sign_in),
                function_associations=[
                    cloudfront.FunctionAssociation(
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                        function=cloudfront.Function(
                            self,
                            "Paths",
                            code=cloudfront.FunctionCode.from_inline(_PATHS_FUNCTION),
                            runtime=cloudfront.FunctionRuntime.JS_2_0,
                            comment="/ to the console, a folder to its index.html",
                        ),
                    )
                ],
            ),
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
        )
        acknowledge(self.distribution, "AwsSolutions-CFR3", NO_ACCESS_LOGS)
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "Staff sign in from wherever they work; who may use the console is Cognito's admin group, "
            "not a country list.",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "A CloudFront web ACL lives in us-east-1 (a second stack) and would guard public static "
            "files only; the API the console calls has its own web ACL (waf.py).",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "The distribution's default *.cloudfront.net certificate: CloudFront fixes its TLS policy "
            "(a minimum protocol needs a certificate of our own and a custom domain).",
        )
        self.url = f"https://{self.distribution.distribution_domain_name}/{CONSOLE_PATH}"
        self.client = console_client(api.user_pool, console_url=self.url)
        self._deploy(config, api, hosted_domain)

    def _deploy(self, config: StageConfig, api: PaymentsApi, hosted_domain: cognito.UserPoolDomain) -> None:
        """The pages as they are in the repository, and config.json made from this stack's resources
        (a config.json in the pages' folder, e.g. the local server's, is left out)."""
        site_config = {
            "api_base": api.base_url.rstrip("/"),
            "auth": {
                "kind": "cognito",
                "domain": hosted_domain.base_url(),
                "client_id": self.client.user_pool_client_id,
                "redirect_uri": self.url,
                "scopes": ["openid", catalog.USER_SCOPE],
            },
        }
        handler_logs = logs.LogGroup(
            self,
            "DeployLogs",
            retention=config.log_retention,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            destination_bucket=self.bucket,
            destination_key_prefix=CONSOLE_PATH,
            sources=[
                s3deploy.Source.asset(str(config.path(config.console_root)), exclude=[CONFIG_FILE]),
                s3deploy.Source.json_data(CONFIG_FILE, site_config),
            ],
            # Pages and modules revalidate on every load, so a deploy shows at once and never mixes
            # versions (no invalidation, hence no CloudFront permission for the deploying function).
            cache_control=[s3deploy.CacheControl.no_cache()],
            retain_on_delete=False,  # the stack's deletion empties the bucket it then deletes
            log_group=handler_logs,
        )
        self._acknowledge_deployment_function(deployment)

    def _acknowledge_deployment_function(self, deployment: s3deploy.BucketDeployment) -> None:
        """CDK's own function behind BucketDeployment (one per stack, at its root): CloudFormation runs it
        at deploy time only, to copy the pages from CDK's assets bucket into ours."""
        stack = Stack.of(self)
        (function,) = [c for c in stack.node.children if c.node.id.startswith("Custom::CDKBucketDeployment")]
        partition = "<AWS::Partition>" if Token.is_unresolved(stack.partition) else stack.partition
        region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
        assets = (
            DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace(
                "${Qualifier}", DefaultStackSynthesizer.DEFAULT_QUALIFIER
            )
            .replace("${AWS::AccountId}", "<AWS::AccountId>")
            .replace("${AWS::Region}", region)
        )
        bucket = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        grant = (
            "CDK's BucketDeployment grant to its own function: read the pages' asset in CDK's assets "
            "bucket, write and delete under the console's bucket (prune); these are CDK's action groups "
            "on those two buckets alone."
        )
        findings = {
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": "CDK's BucketDeployment function writes its own logs with "
            "AWS's managed policy for exactly that; nothing else is attached to its role.",
            "AwsSolutions-IAM5[Action::s3:GetBucket*]": grant,
            "AwsSolutions-IAM5[Action::s3:GetObject*]": grant,
            "AwsSolutions-IAM5[Action::s3:List*]": grant,
            "AwsSolutions-IAM5[Action::s3:Abort*]": grant,
            "AwsSolutions-IAM5[Action::s3:DeleteObject*]": grant,
            f"AwsSolutions-IAM5[Resource::arn:{partition}:s3:::{assets}/*]": "The asset's key in CDK's "
            "assets bucket is known only once it is uploaded; read only.",
            f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]": "Every object of the console's bucket: "
            "the deployment replaces the pages and removes what the repository no longer has.",
            "AwsSolutions-L1": "CDK's BucketDeployment function pins the runtime CDK builds and tests it "
            "for; it moves with aws-cdk-lib upgrades.",
        }
        for finding, reason in findings.items():
            acknowledge(function, finding, reason)
