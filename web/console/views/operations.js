// The dead-letter queues. No API route gives their depth, so the console does not show one: it shows the
// operator tools that do (docs/operations.md), run with AWS credentials outside the browser.
import { h, replace } from "../dom.js";

const COMMANDS = [
  ["See each DLQ's messages and their errors (they stay in the queue)", "python -m tools.operations --stage prod dlq list [--queue accounting]"],
  ["After fixing the cause, deliver them again to their function", "python -m tools.operations --stage prod dlq redrive [--queue accounting] [--max 10]"],
  ["Replay a period of the bus archive to one subscriber", "python -m tools.operations --stage prod archive replay --from 2026-11-25 --to 2026-11-26 --rule accounting"],
  ["Deliver a Stripe event again whose webhook never came", "python -m tools.operations --stage prod stripe redeliver --event evt_..."],
  ["Locally, against make dev", "make dlq-list | make dlq-redrive | make archive-replay FROM=... RULE=... | make stripe-redeliver EVENT=evt_..."],
];

export async function operationsView(api, root) {
  replace(
    root,
    h("h2", {}, "Dead-letter queues"),
    h("div", { class: "problem", role: "note" }, h("strong", {}, "Queue depth is not available in the console."), h("p", {}, "The API has no route for the queues: each DLQ's depth is in CloudWatch (the DLQ alarms, ApproximateNumberOfMessagesVisible of payments[-<stage>]-<function>-dlq) and in the operator tools below.")),
    h("section", {}, h("h3", {}, "Redrive, with the operator tools"), COMMANDS.map(([what, command]) => [h("p", {}, what), h("pre", { class: "command" }, command)]), h("p", { class: "muted" }, "Every consumer dedupes, so each is safe to run again. The IAM permissions each needs: docs/operations.md.")),
  );
}
