"""POST /v1/payments: charge a payment method for an order."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments import services
from payments.application.process_payment import ProcessPayment, process_payment
from payments.domain.errors import CardDeclined
from payments.domain.money import Money
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import PaymentResource, Problem, ProcessPaymentRequest, payment_resource
from payments.observability import count

app = api.create_app()


@app.post(
    "/payments",
    summary="Create and confirm a payment",
    responses={
        201: {"description": "Payment created", "content": {"application/json": {"model": PaymentResource}}},
        402: {"description": "Card declined", "content": {"application/problem+json": {"model": Problem}}},
        409: {
            "description": "Order already paid or in progress",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["payments"],
)
def create_payment(
    request: Annotated[ProcessPaymentRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)
    customer_id = caller.customer_for(request.customer_id)

    def charge(sent: Command) -> ApiResult:
        assert sent.idempotency_key is not None  # required on POST
        command = ProcessPayment(
            customer_id=customer_id,
            idempotency_key=sent.idempotency_key,
            request_hash=sent.fingerprint,
            order_id=request.order_id,
            money=Money(request.amount, request.currency),
            payment_method_id=request.payment_method_id,
            capture_method=request.capture,
            description=request.description,
            metadata=request.metadata,
            return_url=request.return_url,
        )
        try:
            payment = process_payment(command, services.store(), services.gateway(), services.method_owners())
        except CardDeclined:
            count("PaymentsFailed")  # the dashboard's declines; faults are alarmed as errors
            raise
        count("PaymentsSucceeded" if payment.status == "succeeded" else "PaymentsStarted")
        return ApiResult(201, payment_resource(payment))

    return api.idempotent_command(app, "process_payment", caller, charge)


handler = api.lambda_handler(app)
