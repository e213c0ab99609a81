"""The outbox relay: publish what the request path could not, then clear the mark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payments.application.clock import seconds_ago, seconds_since
from payments.application.commit import Store
from payments.observability import metrics

BATCH = 100


@dataclass(frozen=True)
class RelayReport:
    published: int
    oldest_age_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"published": self.published, "oldest_age_seconds": round(self.oldest_age_seconds, 3)}


def relay_unpublished(store: Store, min_age_seconds: float, max_batches: int = 10) -> RelayReport:
    from aws_lambda_powertools.metrics import MetricUnit

    published = 0
    oldest = 0.0
    for _ in range(max_batches):
        events = store.payments.unpublished(older_than=seconds_ago(min_age_seconds), limit=BATCH)
        if not events:
            break
        oldest = max(oldest, seconds_since(events[0].occurred_at))
        store.publisher.publish(events)  # raises on failure: the next run tries again
        store.payments.mark_published(events)
        published += len(events)
    # Alarmed in CloudWatch: a growing age means events are not reaching subscribers.
    metrics.add_metric(name="OutboxOldestUnpublishedSeconds", unit=MetricUnit.Seconds, value=oldest)
    metrics.add_metric(name="OutboxRelayed", unit=MetricUnit.Count, value=published)
    return RelayReport(published, oldest)
