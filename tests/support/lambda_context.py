from infra.local.lambda_context import LambdaContext as FakeLambdaContext

__all__ = ["FakeLambdaContext"]
