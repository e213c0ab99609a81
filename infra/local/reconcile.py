"""`make reconcile [FROM=YYYY-MM-DD TO=YYYY-MM-DD | PAYOUT=po_...]`: run a reconciliation against the local
stack and print its summary and every difference.

Talks to `make dev` over HTTP as an admin (a local token, infra/local/tokens.py), or starts a stack the way
`make demo` does and stops it afterwards (an empty one: nothing to reconcile but the run itself). The
period defaults to today (UTC). Exit 0 when the run completed (whatever it found), 1 when it failed or the
request was refused, 2 for bad arguments.

    python -m infra.local.reconcile [--from 2026-11-25] [--to 2026-11-26] [--payout po_...]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infra.local.client import ApiClient
from infra.local.launcher import against_local_stack
from infra.local.settings import StackState
from infra.local.tokens import DEFAULT_SUBS, issue_token

PAGE = 100


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make reconcile", description="Reconcile the local stack.")
    parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (UTC); default today")
    parser.add_argument("--to", dest="last", help="last day, included; default the first")
    parser.add_argument("--payout", help="reconcile one Stripe payout (po_...) instead of a period")
    args = parser.parse_args(argv)
    if args.payout and (args.first or args.last):
        parser.error("give a period (--from/--to) or --payout, not both")
    return args


def request_body(args: argparse.Namespace) -> dict[str, str]:
    if args.payout:
        return {"payout_id": args.payout}
    first = args.first or args.last or datetime.now(UTC).date().isoformat()
    return {"from": first, "to": args.last or first}


def summary_lines(run: dict[str, Any]) -> list[str]:
    scope = run["payout_id"] or f"{run['period']['from']} .. {run['period']['to']}"
    lines = [
        f"run       {run['id']} (attempt {run['attempt']}): {run['status']}",
        f"scope     {run['kind']} {scope}; currencies {', '.join(run['currencies']) or '-'}",
        f"compared  {run['stripe_transactions']} Stripe balance transactions, {run['ledger_entries']} "
        f"journal entries; matched {run['matched']}",
        f"found     {run['differences_total']} differences, {run['unexplained']} unexplained",
    ]
    lines += [f"          {name:<18} {count}" for name, count in run["differences_by_class"].items() if count]
    if run.get("failure"):
        lines.append(f"failure   {run['failure']['code']}: {run['failure']['message']}")
    check = run.get("payout_check")
    if check:
        lines.append(
            f"payout    {check['status']}: paid out {check['transactions_net']} of {check['payout_amount']}"
            + (f" ({check['reason']})" if check["reason"] else "")
        )
    return lines


def difference_line(d: dict[str, Any]) -> str:
    stripe, ledger = d["stripe"], d["ledger"]
    ours = " ".join(v for v in (d["payment_id"], d["refund_id"], d["payout_id"]) if v) or "-"
    stripe_ids = " ".join(stripe["balance_transaction_ids"]) or "-"
    entry_ids = " ".join(ledger["entry_ids"]) or "-"
    return (
        f"#{d['number']:<4} {d['class']:<18} {d['currency']}"
        f"  Stripe {stripe['object_id'] or '-'} [{stripe_ids}] amount {stripe['amount']} fee {stripe['fee']}"
        f"  | ours {ours} [{entry_ids}] amount {ledger['amount']} fee {ledger['fee']}"
        f"\n       {d['detail']}"
    )


def reconcile(state: StackState, body: dict[str, str]) -> int:
    admin = ApiClient(state.api_url, issue_token(state.jwt_secret, DEFAULT_SUBS["admin"], admin=True))
    print(f"POST /v1/reconciliation/runs {body}", flush=True)
    answer = admin.post("/reconciliation/runs", body)
    data = answer.json if answer.body.startswith(b"{") else None
    if answer.status != 201 or not isinstance(data, dict):
        print(f"  <- {answer.status} {answer.body[:600].decode(errors='replace')}", file=sys.stderr)
        run = data.get("run") if isinstance(data, dict) else None
        if isinstance(run, dict):
            print("\n".join(summary_lines(run)))
        return 1
    print("\n".join(summary_lines(data)))
    cursor: str | None = ""
    while cursor is not None:
        query = f"?limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
        page = admin.get(f"/reconciliation/runs/{data['id']}{query}").json
        for difference in page["differences"]:
            print(difference_line(difference))
        cursor = page["next_cursor"]
    if data["differences_total"]:
        print(f"CSV: GET {state.api_url}/reconciliation/runs/{data['id']}/differences")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    return against_local_stack("reconcile", lambda state: reconcile(state, request_body(args)))


if __name__ == "__main__":
    sys.exit(main())
