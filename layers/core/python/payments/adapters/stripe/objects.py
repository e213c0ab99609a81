"""Reading Stripe's objects, whether the SDK's StripeObjects or plain dicts (webhook payloads): one way for
every Stripe adapter."""

from __future__ import annotations

from typing import Any

from payments.domain.errors import ProviderResponseIncomplete


def get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def id_of(reference: Any) -> str | None:
    """An id from a reference Stripe may have expanded into the object."""
    return reference if isinstance(reference, str) or reference is None else get(reference, "id")


def metadata_of(obj: Any) -> dict[str, str]:
    metadata = get(obj, "metadata")
    if metadata is None:
        return {}
    if hasattr(metadata, "to_dict"):
        metadata = metadata.to_dict()
    return {str(k): str(v) for k, v in dict(metadata).items()}


def money(obj: Any, name: str, *, required: bool = True) -> int:
    """A money field of Stripe's answer. One it must carry and does not is an error, never a zero:
    a payment must not succeed with nothing captured, nor the ledger book nothing in silence."""
    amount = get(obj, name)
    if amount is None or isinstance(amount, bool):
        if required:
            from payments.observability import count

            count("StripeMoneyFieldMissing")
            raise ProviderResponseIncomplete(
                f"the payment provider's {get(obj, 'object') or 'answer'} lacks {name}",
                provider_object=get(obj, "id"),
            )
        return 0
    return int(amount)
