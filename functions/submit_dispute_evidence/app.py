"""POST /v1/disputes/{dispute_id}/evidence: upload evidence files to Stripe and stage the evidence
(`submit: false`, the default) or submit it, once (admins only). A body takes up to 5.5 MB (files in
base64)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path

from payments import services
from payments.application.dispute_responses import EvidenceResponse, respond
from payments.application.ports import EvidenceUpload
from payments.http import api
from payments.http.api import Command
from payments.http.idempotency import ApiResult
from payments.http.schemas import (
    EVIDENCE_BODY_BYTES,
    DisputeDetail,
    DisputeEvidenceRequest,
    DisputeId,
    Problem,
    dispute_resource,
)
from payments.observability import count

app = api.create_app()


@app.post(
    "/disputes/<dispute_id>/evidence",
    summary="Stage or submit a dispute's evidence",
    responses={
        200: {
            "description": "The dispute with its evidence as Stripe now holds it",
            "content": {"application/json": {"model": DisputeDetail}},
        },
        400: {
            "description": f"Bodies here take up to {EVIDENCE_BODY_BYTES:,} bytes; `validation_error`: an "
            "unknown field, text over Stripe's limits, a file that is not the PDF, JPEG or PNG it says, "
            "nothing to stage",
            "content": {"application/problem+json": {"model": Problem}},
        },
        409: {
            "description": "`evidence_already_submitted`: Stripe takes one submission, then no change; "
            "`dispute_closed`",
            "content": {"application/problem+json": {"model": Problem}},
        },
    },
    tags=["disputes"],
)
def submit_evidence(
    dispute_id: Annotated[DisputeId, Path()],
    request: Annotated[DisputeEvidenceRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key")] = None,
) -> Response[Any]:
    caller = api.caller(app)

    def run(sent: Command) -> ApiResult:
        assert sent.idempotency_key is not None  # required on POST
        response = EvidenceResponse(
            dispute_id=dispute_id,
            evidence=request.evidence.given(),
            files=[EvidenceUpload(f.field, f.filename, f.data()) for f in request.files],
            submit=request.submit,
            caller=caller.sub,
            idempotency_key=sent.idempotency_key,
        )
        view = respond(services.dispute_records(), services.stripe_disputes(), response)
        count("DisputeEvidenceSubmitted" if request.submit else "DisputeEvidenceStaged")
        return ApiResult(200, dispute_resource(view.record, view.evidence))

    return api.idempotent_command(app, "submit_dispute_evidence", caller, run)


handler = api.lambda_handler(app, max_body_bytes=EVIDENCE_BODY_BYTES)
