"""POST /v1/payments: charge a payment method for an order."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from payments import services
from payments.application.orders import OrderRequest, order_terms
from payments.application.process_payment import ProcessPayment, process_payment
from payments.domain.errors import CardDeclined, Forbidden
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
        402: {
            "description": "Card declined (card_declined), or blocked by the risk checks (payment_blocked)",
            "content": {"application/problem+json": {"model": Problem}},
        },
        409: {
            "description": "Order already paid or in progress (order_already_paid, payment_in_progress), or "
            "another customer's (order_customer_mismatch)",
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
    if request.off_session and not caller.trusted:
        raise Forbidden("only services and admins charge a saved method off-session", param="off_session")
    order = OrderRequest(
        order_token=request.order_token,
        order_id=request.order_id,
        amount=request.amount,
        currency=request.currency,
        customer_id=caller.acting_for(request.customer_id),
    )

    def charge(sent: Command) -> ApiResult:
        assert sent.idempotency_key is not None  # required on POST
        terms = order_terms(order, caller.as_customer, trusted=caller.trusted, tokens=services.order_tokens())
        command = ProcessPayment(
            customer_id=terms.customer_id,
            idempotency_key=sent.idempotency_key,
            request_hash=sent.fingerprint,
            order_id=terms.order_id,
            money=terms.money,
            payment_method_id=request.payment_method_id,
            capture_method=request.capture,
            description=request.description,
            metadata=request.metadata,
            return_url=request.return_url,
            off_session=request.off_session,
            # Whose address the risk checks count: the customer's own, not a service's or an admin's.
            source_ip=None if caller.trusted else app.current_event.request_context.identity.source_ip,
        )
        try:
            payment = process_payment(
                command,
                services.store(),
                services.gateway(),
                services.payment_start(),
                services.risk_checks(),
            )
        except CardDeclined:
            count("PaymentsFailed")  # the dashboard's declines; faults are alarmed as errors
            raise
        count("PaymentsSucceeded" if payment.status == "succeeded" else "PaymentsStarted")
        return ApiResult(201, payment_resource(payment, admin=caller.is_admin))

    return api.idempotent_command(app, "process_payment", caller, charge)


handler = api.lambda_handler(app)
