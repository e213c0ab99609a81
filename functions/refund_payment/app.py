"""POST /v1/payments/{payment_id}/refunds: refund all or part of a captured payment (admins: the
catalog flags the route admin_only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments import services
from payments.application.refund_payment import RefundPayment, refund_payment
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import Problem, RefundRequest, RefundResource, refund_resource
from payments.observability import count

app = api.create_app()


@app.post(
    "/payments/<payment_id>/refunds",
    summary="Refund a payment",
    responses={
        201: {"description": "Refund created", "content": {"application/json": {"model": RefundResource}}},
        409: {
            "description": "Not refundable, amount above what is left, refund limit, or refused by Stripe",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["refunds"],
)
def refund(
    payment_id: str,
    request: Annotated[RefundRequest | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)
    body = request or RefundRequest()

    def run(sent: Command) -> ApiResult:
        assert sent.idempotency_key is not None  # required on POST
        command = RefundPayment(
            payment_id=payment_id,
            requested_by=caller.sub,
            idempotency_key=sent.idempotency_key,
            request_hash=sent.fingerprint,
            amount=body.amount,
            reason=body.reason,
            metadata=body.metadata,
        )
        created = refund_payment(command, services.store(), services.refunds(), services.gateway())
        count(f"Refunds{str(created.status).capitalize()}")
        return ApiResult(201, refund_resource(created))

    return api.idempotent_command(app, "refund_payment", caller, run)


handler = api.lambda_handler(app)
