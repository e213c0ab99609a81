// The books: each account's balance and the trial balance (which must be zero) per currency and period,
// the journal, and the reconciliation runs with their differences.
import { definitions, field, h, json, money, problemView, replace, table, when } from "../dom.js";

const today = () => new Date().toISOString().slice(0, 10);

export async function ledgerView(api, root) {
  const currency = h("input", { name: "currency", value: "usd", size: 4, maxlength: 3, required: true });
  const from = h("input", { name: "from", type: "date", value: today(), required: true });
  const to = h("input", { name: "to", type: "date", value: today(), required: true });
  const results = h("div");
  async function load() {
    const query = { currency: currency.value.trim().toLowerCase(), from: from.value, to: to.value };
    try {
      const [books, journal] = await Promise.all([api.get("/ledger/balances", query), api.get("/ledger/entries", { ...query, limit: 20 })]);
      const c = books.currency;
      const zero = books.trial_balance === 0;
      replace(
        results,
        h("section", { "aria-labelledby": "trial-title" }, h("h3", { id: "trial-title" }, `Trial balance, ${c.toUpperCase()}, ${books.from} to ${books.to}`), h("p", { class: zero ? "zero" : "nonzero", id: "trial-balance" }, `${money(books.trial_balance, c)}${zero ? " (balanced)" : " (NOT zero: the books do not balance)"}`)),
        table("Balances (debits positive, credits negative)", ["Account", "Balance"], books.accounts.map((a) => [a.account, money(a.balance, c)])),
        table("Journal (latest page)", ["Entry", "Source", "Payment", "When", "Lines"], journal.data.map((e) => [e.entry_id, e.source, e.payment_id, when(e.occurred_at), e.lines.map((l) => `${l.account} ${money(l.amount, c)}`).join("; ")])),
      );
    } catch (error) {
      replace(results, problemView(error));
    }
  }
  const form = h("form", { class: "panel inline", "aria-label": "Ledger period" }, field("Currency", currency), field("From (UTC day)", from), field("To (UTC day)", to), h("button", { type: "submit" }, "Show balances"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  replace(root, h("h2", {}, "Ledger"), form, results);
  await load();
}

function runRow(run) {
  return [h("a", { href: `#/reconciliation/${encodeURIComponent(run.id)}` }, run.id), run.kind, run.status, run.period ? `${run.period.from} to ${run.period.to}` : run.payout_id, when(run.started_at), run.matched, run.unexplained, run.differences_total];
}

export async function reconciliationView(api, root) {
  const status = h("div");
  const page = await api.get("/reconciliation/runs", { limit: 20 });
  const from = h("input", { name: "from", type: "date", value: today() });
  const to = h("input", { name: "to", type: "date", value: today() });
  const payout = h("input", { name: "payout_id", placeholder: "po_... (instead of a period)" });
  const form = h("form", { class: "panel inline", "aria-label": "Run a reconciliation" }, field("From", from), field("To", to), field("Or a payout", payout), h("button", { type: "submit" }, "Run reconciliation"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = payout.value.trim() ? { payout_id: payout.value.trim() } : { from: from.value, to: to.value };
    try {
      const run = await api.post("/reconciliation/runs", body);
      location.hash = `#/reconciliation/${encodeURIComponent(run.id)}`;
    } catch (error) {
      replace(status, problemView(error));
    }
  });
  replace(root, h("h2", {}, "Reconciliation"), form, status, table("Runs, newest first", ["Run", "Kind", "Status", "Scope", "Started", "Matched", "Unexplained", "Differences"], page.data.map(runRow)));
}

export async function runView(api, root, id) {
  const run = await api.get(`/reconciliation/runs/${encodeURIComponent(id)}`, { limit: 100 });
  const rows = run.differences.map((d) => [d.number, d.class, d.explained ? "explained" : "unexplained", d.payment_id || d.refund_id || d.payout_id, d.stripe.object_id, money(d.stripe.net, d.currency), money(d.ledger.net, d.currency), d.detail]);
  replace(
    root,
    h("p", {}, h("a", { href: "#/reconciliation" }, "← Reconciliation")),
    h("h2", {}, `Run ${run.id}`),
    h("section", {}, definitions([["Status", run.status], ["Kind", run.kind], ["Scope", run.period ? `${run.period.from} to ${run.period.to}` : run.payout_id], ["Currencies", run.currencies.join(", ")], ["Stripe transactions", run.stripe_transactions], ["Ledger entries", run.ledger_entries], ["Matched", run.matched], ["Unexplained", run.unexplained], ["Failure", run.failure ? `${run.failure.code}: ${run.failure.message}` : null]]), run.payout_check ? json(run.payout_check) : null),
    table(`Differences (${run.differences_total})`, ["#", "Class", "", "Our id", "Stripe object", "Stripe net", "Ledger net", "Detail"], rows),
  );
}
