"""GET /v1/disputes/{dispute_id}: one dispute, with the evidence Stripe holds for it (staged or
submitted), read from Stripe (admins only)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from payments import services
from payments.application.dispute_responses import dispute_detail
from payments.http import api
from payments.http.schemas import DisputeDetail, DisputeId, dispute_resource

app = api.create_app()


@app.get(
    "/disputes/<dispute_id>",
    summary="A dispute and its evidence",
    responses={
        200: {"description": "The dispute", "content": {"application/json": {"model": DisputeDetail}}}
    },
    tags=["disputes"],
)
def get_one(dispute_id: Annotated[DisputeId, Path()]) -> Response[Any]:
    view = dispute_detail(services.dispute_records(), services.stripe_disputes(), dispute_id)
    return api.json_response(200, dispute_resource(view.record, view.evidence))


handler = api.lambda_handler(app)
