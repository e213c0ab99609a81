// Risk: payments held for review (approve = capture, reject = cancel), the blocklist and the rules.
import { field, h, json, money, problemView, replace, table, when } from "../dom.js";
import { confirmed } from "./actions.js";
import { paymentLink } from "./payments.js";

function openReview(payment) {
  const review = payment.risk && payment.risk.review;
  return review && review.status === "open" ? review : null;
}

export async function reviewsView(api, root) {
  const status = h("div");
  const page = await api.get("/payments", { status: "requires_capture", limit: 100 });
  const held = page.data.filter(openReview);
  const rows = held.map((p) => {
    const review = openReview(p);
    const approve = h("button", { type: "button" }, "Approve");
    const reject = h("button", { type: "button", class: "danger" }, "Reject");
    approve.addEventListener("click", async () => {
      if (await confirmed(status, { title: "Approve this payment?", message: `Capture ${money(p.amount, p.currency)} of ${p.id}.`, label: "Approve", done: `${p.id} approved and captured.` }, () => api.post(`/payments/${p.id}/capture`))) reviewsView(api, root).then(() => root.append(status));
    });
    reject.addEventListener("click", async () => {
      if (await confirmed(status, { title: "Reject this payment?", message: `Cancel ${p.id}; the order is free again.`, label: "Reject", done: `${p.id} rejected.` }, () => api.post(`/payments/${p.id}/cancel`))) reviewsView(api, root).then(() => root.append(status));
    });
    return [paymentLink(p.id), p.customer_id, money(p.amount, p.currency), review.source, review.reason, when(review.opened_at || p.created_at), h("span", { class: "actions" }, approve, reject)];
  });
  replace(root, h("h2", {}, "Held for review"), h("p", { class: "muted" }, "Authorized, not captured: approve captures the payment, reject cancels it. A hold not decided in the rules' review_hold_hours expires."), table(`Payments held (${held.length})`, ["Payment", "Customer", "Amount", "Review by", "Why", "Since", "Decide"], rows), status);
}

const KINDS = ["card_fingerprint", "card_bin", "issuing_country", "customer"];

async function blocklistSection(api) {
  const status = h("div");
  const section = h("section", { "aria-labelledby": "blocklist-title" });
  const page = await api.get("/risk/blocklist", { limit: 100 });
  const kind = h("select", { name: "kind" }, KINDS.map((k) => h("option", { value: k }, k)));
  const value = h("input", { name: "value", required: true });
  const reason = h("input", { name: "reason", required: true });
  const add = h("form", { class: "inline", "aria-label": "Block" }, field("Kind", kind), field("Value", value), field("Reason", reason), h("button", { type: "submit" }, "Add to blocklist"));
  const refresh = async () => section.replaceWith(await blocklistSection(api));
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.post("/risk/blocklist", { kind: kind.value, value: value.value.trim(), reason: reason.value.trim() });
      await refresh();
    } catch (error) {
      replace(status, problemView(error));
    }
  });
  const rows = page.data.map((entry) => {
    const remove = h("button", { type: "button", class: "danger", "aria-label": `Remove ${entry.kind} ${entry.value}` }, "Remove");
    remove.addEventListener("click", async () => {
      if (await confirmed(status, { title: "Remove this entry?", message: `${entry.kind} ${entry.value} will no longer be blocked.`, label: "Remove", done: "Removed." }, () => api.delete(`/risk/blocklist/${entry.entry_id}`))) await refresh();
    });
    return [entry.kind, entry.value, entry.reason, entry.author, when(entry.created_at), entry.expires_at ? when(entry.expires_at) : "never", remove];
  });
  return replace(section, h("h3", { id: "blocklist-title" }, "Blocklist"), add, status, table(`Entries in force (${page.data.length})`, ["Kind", "Value", "Reason", "By", "Since", "Expires", ""], rows));
}

async function rulesSection(api) {
  const status = h("div");
  const rules = await api.get("/risk/rules");
  const editor = h("textarea", { class: "rules", name: "rules", spellcheck: "false" });
  editor.value = JSON.stringify(rules, null, 2);
  const form = h("form", { "aria-labelledby": "rules-title" }, field(`The rules in force (version ${rules.version}); saved on this version, a stale one is refused`, editor), h("div", { class: "actions" }, h("button", { type: "submit" }, "Save rules")), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(editor.value);
    } catch (error) {
      return replace(status, problemView({ title: "Not JSON", detail: error.message }));
    }
    await confirmed(status, { title: "Replace the risk rules?", message: "Every payment from now on is checked with these rules.", label: "Save rules", done: "Saved." }, () => api.put("/risk/rules", body));
  });
  return h("section", {}, h("h3", { id: "rules-title" }, "Rules"), form);
}

async function auditSection(api) {
  const page = await api.get("/risk/audit", { limit: 20 });
  return h("section", {}, h("h3", {}, "Changes"), table("Who changed what, newest first", ["When", "Who", "What", "Change"], page.data.map((r) => [when(r.at), r.author, `${r.action} ${r.subject}`, json({ before: r.before, after: r.after })])));
}

export async function riskView(api, root) {
  const sections = await Promise.all([blocklistSection(api), rulesSection(api), auditSection(api)]);
  replace(root, h("h2", {}, "Blocklist and rules"), sections);
}
