// Disputes needing a response, soonest deadline first (the API's order), and one dispute's page: the
// evidence form (staged, or submitted once) and accepting the loss.
import { definitions, field, h, money, problemView, replace, table, when } from "../dom.js";
import { confirmed } from "./actions.js";
import { paymentLink } from "./payments.js";

const STATUSES = ["needs_response", "warning_needs_response", "under_review", "warning_under_review", "won", "lost", "warning_closed", "prevented"];
// The text evidence the form offers (Stripe's names); files are uploaded over the API, not here.
// Long ones get a text area.
const TEXT_FIELDS = [
  ["customer_name", "Customer name"],
  ["customer_email_address", "Customer email"],
  ["customer_purchase_ip", "Customer's IP address at purchase"],
  ["shipping_tracking_number", "Shipping tracking number"],
  ["product_description", "Product description", true],
  ["refund_refusal_explanation", "Why no refund was given", true],
  ["uncategorized_text", "Anything else", true],
];

export async function disputesView(api, root, wanted = "needs_response") {
  const status = h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s }, s)));
  status.value = wanted;
  const page = await api.get("/disputes", { status: wanted, limit: 100 });
  const rows = page.data.map((d) => [
    h("a", { href: `#/disputes/${encodeURIComponent(d.id)}` }, d.id),
    paymentLink(d.payment_id),
    money(d.amount, d.currency),
    d.reason,
    when(d.evidence_details.due_by),
    d.evidence_details.past_due ? "past due" : d.evidence_submitted ? "submitted" : d.evidence_details.has_evidence ? "staged" : "none",
  ]);
  const form = h("form", { class: "panel inline", "aria-label": "Disputes by status" }, field("Status", status), h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    disputesView(api, root, status.value).catch((error) => replace(root, problemView(error)));
  });
  replace(root, h("h2", {}, "Disputes"), form, table(`${wanted} (${page.data.length}), soonest deadline first`, ["Dispute", "Payment", "Amount", "Reason", "Respond by", "Evidence"], rows));
}

// `known`: the dispute as a change answered it (the record a later read gives may lag the webhooks).
export async function disputeView(api, root, id, known = null) {
  const status = h("div", { id: "dispute-status" });
  const dispute = known || (await api.get(`/disputes/${encodeURIComponent(id)}`));
  const reload = async (answer) => {
    const outcome = [...status.childNodes];
    await disputeView(api, root, id, answer && answer.id ? answer : null);
    root.querySelector("#dispute-status").append(...outcome);
  };
  const open = ["needs_response", "warning_needs_response"].includes(dispute.status) && !dispute.evidence_submitted;
  const inputs = TEXT_FIELDS.map(([name, label, long]) => {
    const input = long ? h("textarea", { name, rows: 3 }) : h("input", { name });
    input.value = (dispute.evidence && dispute.evidence[name]) || "";
    return [name, field(label, input), input];
  });
  const evidence = () => Object.fromEntries(inputs.filter(([, , input]) => input.value.trim()).map(([name, , input]) => [name, input.value.trim()]));
  const stage = h("button", { type: "submit", value: "stage", class: "secondary" }, "Save evidence (not submitted)");
  const submit = h("button", { type: "submit", value: "submit" }, "Submit evidence");
  const form = h("form", { "aria-labelledby": "evidence-title" }, h("h3", { id: "evidence-title" }, "Evidence"), h("div", { class: "evidence" }, inputs.map(([, wrapper]) => wrapper)), h("div", { class: "actions" }, stage, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const final = event.submitter === submit;
    const body = { evidence: evidence(), submit: final };
    const request = () => api.post(`/disputes/${dispute.id}/evidence`, body);
    if (final) {
      const answer = await confirmed(status, { title: "Submit the evidence?", message: "Stripe sends it to the card issuer; it can be submitted only once.", label: "Submit evidence", done: "Evidence submitted." }, request);
      if (answer) reload(answer);
      return;
    }
    try {
      const answer = await request();
      replace(status, h("div", { class: "notice", role: "status" }, "Evidence saved at Stripe, not submitted."));
      reload(answer);
    } catch (error) {
      replace(status, problemView(error));
    }
  });
  const accept = h("button", { type: "button", class: "danger" }, "Accept the dispute");
  accept.addEventListener("click", async () => {
    const answer = await confirmed(status, { title: "Accept this dispute?", message: `Stripe closes it as lost: ${money(dispute.amount, dispute.currency)} and the dispute fee are not coming back.`, label: "Accept the dispute", done: "Dispute accepted (lost)." }, () => api.post(`/disputes/${dispute.id}/accept`, { confirm: "accept_loss" }));
    if (answer) reload(answer);
  });
  const files = table("Evidence files", ["Field", "File", "Name"], (dispute.files || []).map((f) => [f.field, f.file_id || f.id, f.filename]));
  replace(
    root,
    h("p", {}, h("a", { href: "#/disputes" }, "← Disputes")),
    h("h2", {}, `Dispute ${dispute.id}`),
    h(
      "section",
      {},
      definitions([
        ["Status", dispute.status],
        ["Payment", paymentLink(dispute.payment_id)],
        ["Amount", money(dispute.amount, dispute.currency)],
        ["Reason", dispute.reason],
        ["Respond by", when(dispute.evidence_details.due_by)],
        ["Past due", dispute.evidence_details.past_due ? "yes" : "no"],
        ["Evidence", dispute.evidence_submitted ? `submitted (${dispute.evidence_details.submission_count})` : dispute.evidence_details.has_evidence ? "staged, not submitted" : "none"],
        ["Stripe charge", dispute.charge_id],
        ["Stripe payment intent", dispute.payment_intent_id],
      ]),
    ),
    status,
    open ? h("section", {}, form, files) : h("section", {}, h("p", { class: "muted" }, "This dispute takes no more evidence."), files),
    open ? h("section", {}, h("h3", {}, "Accept"), h("p", {}, "Accepting concedes the dispute."), accept) : null,
  );
}
