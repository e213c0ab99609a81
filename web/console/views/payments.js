// Payments: find them, and one payment's page with its timeline, refunds, dispute, risk and Stripe ids,
// and the admin's capture, partial capture, cancel and refund.
import { definitions, field, h, json, money, problemView, replace, table, toMinor, when } from "../dom.js";
import { confirmed } from "./actions.js";

const STATUSES = ["succeeded", "requires_capture", "requires_action", "processing", "pending", "partially_refunded", "refunded", "failed", "canceled"];

export function paymentLink(id) {
  return h("a", { href: `#/payments/${encodeURIComponent(id)}` }, id);
}

export function paymentRows(payments) {
  return payments.map((p) => [paymentLink(p.id), p.order_id, p.customer_id, money(p.amount, p.currency), p.status, p.description, when(p.created_at)]);
}

export const PAYMENT_HEADINGS = ["Payment", "Order", "Customer", "Amount", "Status", "Description", "Created"];

export async function paymentsView(api, root) {
  const customer = h("input", { name: "customer_id", placeholder: "e.g. alice" });
  const status = h("select", { name: "status" }, h("option", { value: "" }, "any (needs a customer)"), STATUSES.map((s) => h("option", { value: s }, s)));
  status.value = "succeeded";
  const order = h("input", { name: "order_id", placeholder: "e.g. order-1001" });
  const paymentId = h("input", { name: "payment_id", placeholder: "pay_..." });
  const results = h("div");
  let cursor = null;

  async function search(more = false) {
    // An order is looked up exactly (its current payment); the API takes no other filter with it.
    const wanted = order.value.trim();
    const query = wanted ? { order_id: wanted } : { customer_id: customer.value.trim(), status: status.value, limit: 50, cursor: more ? cursor : null };
    try {
      const page = await api.get("/payments", query);
      cursor = page.next_cursor;
      replace(
        results,
        table(wanted ? `Payment of order ${wanted} (${page.data.length})` : `Payments (${page.data.length})`, PAYMENT_HEADINGS, paymentRows(page.data)),
        cursor ? h("button", { type: "button", class: "secondary", onclick: () => search(true) }, "Next page") : null,
      );
    } catch (error) {
      replace(results, problemView(error));
    }
  }

  const form = h("form", { class: "panel inline", role: "search", "aria-label": "Find payments" }, field("Customer id", customer), field("Status", status), field("Order id (exact: its current payment; customer and status not used)", order), h("button", { type: "submit" }, "Find payments"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  const open = h("form", { class: "panel inline", "aria-label": "Open a payment" }, field("Payment id", paymentId), h("button", { type: "submit", class: "secondary" }, "Open payment"));
  open.addEventListener("submit", (event) => {
    event.preventDefault();
    if (paymentId.value.trim()) location.hash = `#/payments/${encodeURIComponent(paymentId.value.trim())}`;
  });
  replace(root, h("h2", {}, "Payments"), form, open, results);
  await search();
}

// Stripe's ids as the history recorded them (intent, charge, refund, dispute, customer, method).
function stripeIds(payment, history) {
  const found = new Map();
  const visit = (value, key) => {
    if (typeof value === "string" && /^(pi|ch|re|dp|du|pm|cus|seti|txn|po|prv|issfr)_[A-Za-z0-9_]+$/.test(value)) found.set(value, key);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  for (const event of history) visit(event.data, "");
  for (const refund of payment.refunds || []) if (refund.stripe_refund_id) found.set(refund.stripe_refund_id, "stripe_refund_id");
  return [...found].map(([id, key]) => [key || "-", id]);
}

function actionsPanel(api, payment, status, reload) {
  const currency = payment.currency;
  const forms = [];
  if (payment.status === "requires_capture") {
    const amount = h("input", { name: "capture_amount", inputmode: "decimal", placeholder: money(payment.amount, currency) });
    const capture = h("form", { class: "inline", "aria-label": "Capture" }, field(`Capture amount (${currency.toUpperCase()}, empty: all)`, amount), h("button", { type: "submit" }, "Capture"));
    capture.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = amount.value.trim();
      const minor = text ? toMinor(text, currency) : null;
      if (text && minor === null) return replace(status, problemView({ title: "Not an amount", detail: `Enter an amount in ${currency.toUpperCase()}, e.g. 12.50` }));
      const what = minor === null ? money(payment.amount, currency) : money(minor, currency);
      const done = await confirmed(status, { title: "Capture this payment?", message: `Capture ${what} of ${payment.id}${minor === null ? "" : " (the rest is released to the customer)"}.`, label: "Capture", done: `Captured ${what}.` }, () => api.post(`/payments/${payment.id}/capture`, minor === null ? undefined : { amount: minor }));
      if (done) reload();
    });
    forms.push(capture);
  }
  if (["requires_capture", "requires_action", "pending"].includes(payment.status)) {
    const cancel = h("button", { type: "button", class: "danger" }, "Cancel payment");
    cancel.addEventListener("click", async () => {
      const done = await confirmed(status, { title: "Cancel this payment?", message: `Cancel ${payment.id}: the authorization is released and the order is free again.`, label: "Cancel payment", done: "Canceled." }, () => api.post(`/payments/${payment.id}/cancel`));
      if (done) reload();
    });
    forms.push(h("div", {}, cancel));
  }
  const refundable = payment.amount_captured - payment.amount_refunded;
  if (["succeeded", "partially_refunded"].includes(payment.status) && refundable > 0) {
    const amount = h("input", { name: "refund_amount", inputmode: "decimal", placeholder: money(refundable, currency) });
    const reason = h("select", { name: "refund_reason" }, h("option", { value: "" }, "none"), ["requested_by_customer", "duplicate", "fraudulent"].map((r) => h("option", { value: r }, r)));
    const refund = h("form", { class: "inline", "aria-label": "Refund" }, field(`Refund amount (${currency.toUpperCase()}, empty: ${money(refundable, currency)})`, amount), field("Reason", reason), h("button", { type: "submit" }, "Refund"));
    refund.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = amount.value.trim();
      const minor = text ? toMinor(text, currency) : null;
      if (text && !minor) return replace(status, problemView({ title: "Not an amount", detail: `Enter an amount in ${currency.toUpperCase()}, e.g. 12.50` }));
      const what = money(minor ?? refundable, currency);
      const body = {};
      if (minor) body.amount = minor;
      if (reason.value) body.reason = reason.value;
      const done = await confirmed(status, { title: "Refund this payment?", message: `Refund ${what} of ${payment.id} to the customer.`, label: "Refund", done: `Refund of ${what} requested.` }, () => api.post(`/payments/${payment.id}/refunds`, body));
      if (done) reload();
    });
    forms.push(refund);
  }
  return h("section", { "aria-labelledby": "actions-title" }, h("h3", { id: "actions-title" }, "Actions"), forms.length ? forms : h("p", { class: "muted" }, `Nothing to do for a ${payment.status} payment.`), status);
}

// The payment's risk (docs/risk.md): our decision and its reasons, Radar's outcome, the review, the fraud
// warning; the stored record itself under "All recorded".
function riskView(risk) {
  const parts = [];
  const decision = risk.decision;
  if (decision) {
    parts.push(definitions([["Decision", decision.decision], ["Decided", when(decision.decided_at)]]));
    if ((decision.reasons || []).length) {
      parts.push(table("Reasons", ["Check", "Code", "Asked for", "Why"], decision.reasons.map((r) => [r.check, r.code, r.decision, r.message])));
    }
  }
  const radar = risk.radar;
  if (radar) {
    const score = radar.risk_score ?? null;
    parts.push(h("h4", {}, "Radar"), definitions([["Risk level", radar.risk_level], ["Score", score === null ? null : String(score)], ["Rule", radar.rule], ["Outcome", radar.outcome_type], ["Seller message", radar.seller_message]]));
  }
  const review = risk.review;
  if (review) {
    parts.push(h("h4", {}, "Review"), definitions([["Source", review.source], ["Status", review.status], ["Reason", review.reason], ["Opened", when(review.opened_at)], ["Closed", review.closed_at ? `${when(review.closed_at)} by ${review.closed_by ?? "-"}` : null]]));
  }
  const warning = risk.fraud_warning;
  if (warning) {
    parts.push(h("h4", {}, "Early fraud warning"), definitions([["Warning", warning.id], ["Fraud type", warning.fraud_type], ["Actionable", warning.actionable ? "yes" : "no"], ["Received", when(warning.received_at)]]));
  }
  parts.push(h("details", {}, h("summary", {}, "All recorded"), json(risk)));
  return parts;
}

export async function paymentView(api, root, id) {
  const status = h("div", { id: "action-status" });
  // After a change: the page again, with the change's outcome kept.
  const reload = async () => {
    const outcome = [...status.childNodes];
    try {
      await paymentView(api, root, id);
      root.querySelector("#action-status").append(...outcome);
    } catch (error) {
      replace(root, problemView(error));
    }
  };
  const [payment, history] = await Promise.all([api.get(`/payments/${encodeURIComponent(id)}`), api.get(`/payments/${encodeURIComponent(id)}/events`)]);
  const events = history.data || [];
  const c = payment.currency;
  const facts = definitions([
    ["Status", payment.status],
    ["Amount", money(payment.amount, c)],
    ["Captured", money(payment.amount_captured, c)],
    ["Refunded", money(payment.amount_refunded, c)],
    ["Order", payment.order_id],
    ["Customer", payment.customer_id],
    ["Capture", payment.capture_method + (payment.off_session ? ", off-session" : "")],
    ["Description", payment.description],
    ["Failure", payment.failure ? `${payment.failure.code}${payment.failure.decline_code ? ` (${payment.failure.decline_code})` : ""}: ${payment.failure.message}` : null],
    ["Created", when(payment.created_at)],
    ["Updated", when(payment.updated_at)],
  ]);
  const refunds = table("Refunds", ["Refund", "Amount", "Status", "Reason", "Origin", "Stripe refund", "Created"], (payment.refunds || []).map((r) => [r.id, money(r.amount, r.currency), r.status, r.reason, r.origin, r.stripe_refund_id, when(r.created_at)]));
  const dispute = payment.dispute
    ? definitions([["Dispute", h("a", { href: `#/disputes/${encodeURIComponent(payment.dispute.id)}` }, payment.dispute.id)], ["Status", payment.dispute.status], ["Reason", payment.dispute.reason], ["Amount", money(payment.dispute.amount, c)]])
    : h("p", { class: "muted" }, "No dispute.");
  const risk = payment.risk ? riskView(payment.risk) : h("p", { class: "muted" }, "No risk decision recorded.");
  const timeline = h("ol", { class: "timeline" }, events.map((e) => h("li", {}, h("strong", {}, e.event_type), ` · ${when(e.occurred_at)} · version ${e.version}`, h("details", {}, h("summary", {}, "What it recorded"), json(e.data)))));
  replace(
    root,
    h("p", {}, h("a", { href: "#/payments" }, "← Payments")),
    h("h2", {}, `Payment ${payment.id}`),
    h("div", { class: "grid" }, h("section", { "aria-label": "Payment" }, facts), actionsPanel(api, payment, status, reload)),
    h("section", {}, refunds),
    h("div", { class: "grid" }, h("section", {}, h("h3", {}, "Dispute"), dispute), h("section", { "aria-labelledby": "risk-title" }, h("h3", { id: "risk-title" }, "Risk decision"), risk)),
    h("section", {}, h("h3", {}, "Stripe ids"), table("Stripe ids seen in this payment's history", ["Field", "Id"], stripeIds(payment, events))),
    h("section", {}, h("h3", {}, "Timeline"), timeline),
  );
}
