"""Stripe's disputes and Files API over the official SDK, for the admins' dispute routes.

Evidence files go to Stripe's Files API (`POST /v1/files` on the SDK's `files` base address,
files.stripe.com, multipart/form-data, purpose `dispute_evidence`); the dispute is then updated with
their ids. Every command carries the idempotency key its caller derived from the request, so a retried
request gets Stripe's first answers back. Disputes are returned as Stripe sends them (plain dicts),
which the use cases read with the same model as the webhooks' (application/disputes.py).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from payments.adapters.stripe.client import StripeAdapter
from payments.adapters.stripe.gateway import translate
from payments.adapters.stripe.objects import get
from payments.application.ports import EvidenceUpload
from payments.domain.dispute import EvidenceFile

T = TypeVar("T")
PURPOSE = "dispute_evidence"


class StripeDisputes(StripeAdapter):
    def retrieve_dispute(self, dispute_id: str) -> dict[str, Any] | None:
        import stripe

        try:
            return _plain(self._stripe.v1.disputes.retrieve(dispute_id))
        except stripe.InvalidRequestError as error:
            if getattr(error, "code", None) == "resource_missing":
                return None
            raise translate(error) from error
        except stripe.StripeError as error:
            raise translate(error) from error

    def upload_evidence(self, upload: EvidenceUpload, idempotency_key: str) -> EvidenceFile:
        content = io.BytesIO(upload.content)
        content.name = upload.filename  # the SDK names the multipart part after it
        created = self._call(
            lambda: self._stripe.v1.files.create(
                params={"file": content, "purpose": PURPOSE}, options={"idempotency_key": idempotency_key}
            )
        )
        return EvidenceFile(
            field=upload.field,
            file_id=str(get(created, "id")),
            filename=str(get(created, "filename") or upload.filename),
            type=str(get(created, "type")),
            size=int(get(created, "size") or len(upload.content)),
        )

    def update_evidence(
        self, dispute_id: str, evidence: Mapping[str, str], submit: bool, idempotency_key: str
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"submit": submit}
        if evidence:
            params["evidence"] = dict(evidence)
        return _plain(
            self._call(
                lambda: self._stripe.v1.disputes.update(
                    dispute_id, params=params, options={"idempotency_key": idempotency_key}
                )
            )
        )

    def close_dispute(self, dispute_id: str, idempotency_key: str) -> dict[str, Any]:
        return _plain(
            self._call(
                lambda: self._stripe.v1.disputes.close(
                    dispute_id, options={"idempotency_key": idempotency_key}
                )
            )
        )

    def _call(self, call: Callable[[], T]) -> T:
        import stripe

        try:
            return call()
        except stripe.StripeError as error:
            raise translate(error) from error


def _plain(dispute: Any) -> dict[str, Any]:
    return dict(dispute.to_dict()) if hasattr(dispute, "to_dict") else dict(dispute)
