"""Operator tools: repair what the event pipeline could not deliver, without writing scripts.

    python -m tools.operations --stage prod dlq list [--queue accounting]
    python -m tools.operations --stage prod dlq redrive [--queue accounting] [--max 10]
    python -m tools.operations --stage prod archive replay --from 2026-11-25 [--to 2026-11-25] --rule refunds
    python -m tools.operations --stage prod stripe redeliver --event evt_...
    python -m tools.operations --local ...      # the same against `make dev` (the Makefile's dlq-list, ...)

The same code runs against a deployed stage (boto3 with the operator's credentials; resources found by
the stack's names, infra/aws/naming.py) and against the local stack (boto3 on moto, the local gateway's
Lambda API). docs/operations.md is the runbook, with the IAM permissions each command needs.

Exit codes: 0 done (also when there was nothing to do), 1 something failed (a redrive that failed
again, a replay that failed, Stripe or AWS unreachable), 2 bad input (an unknown queue, rule or event,
a bad time range).
"""
