"""POST /v1/disputes/{dispute_id}/accept: accept the dispute, which Stripe closes lost; irreversible, so
the body must say `{"confirm": "accept_loss"}` (admins only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path

from payments import services
from payments.application.dispute_responses import accept
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import AcceptDisputeRequest, DisputeDetail, DisputeId, Problem, dispute_resource
from payments.observability import count

app = api.create_app()


@app.post(
    "/disputes/<dispute_id>/accept",
    summary="Accept a dispute (lost)",
    responses={
        200: {
            "description": "The dispute, closed lost",
            "content": {"application/json": {"model": DisputeDetail}},
        },
        409: {
            "description": "`dispute_closed`; `evidence_already_submitted`: the bank decides now",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["disputes"],
)
def accept_one(
    dispute_id: Annotated[DisputeId, Path()],
    request: Annotated[AcceptDisputeRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)

    def run(sent: Command) -> ApiResult:
        assert sent.idempotency_key is not None  # required on POST
        view = accept(
            services.dispute_records(),
            services.stripe_disputes(),
            dispute_id,
            caller.sub,
            sent.idempotency_key,
        )
        count("DisputesAccepted")
        return ApiResult(200, dispute_resource(view.record, view.evidence))

    return api.idempotent_command(app, "accept_dispute", caller, run)


handler = api.lambda_handler(app)
