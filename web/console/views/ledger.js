// The books: each account's balance and the trial balance (which must be zero) per currency and period,
// the balances over time (a chart and its table), the journal, and the reconciliation runs with their
// differences.
import { lineChart } from "../chart.js";
import { definitions, field, h, json, money, problemView, replace, table, when } from "../dom.js";

const today = () => new Date().toISOString().slice(0, 10);
const DAY_MS = 86_400_000;
// Balances over time ask the API once per day: at most a month of calls, a few at a time.
export const MAX_CHART_DAYS = 31;
const PARALLEL_CALLS = 4;

// The UTC days from `first` to `last` (YYYY-MM-DD, inclusive); [] when `last` is before `first`.
function days(first, last) {
  const start = Date.parse(`${first}T00:00:00Z`);
  const end = Date.parse(`${last}T00:00:00Z`);
  const found = [];
  for (let t = start; t <= end; t += DAY_MS) found.push(new Date(t).toISOString().slice(0, 10));
  return found;
}

async function eachLimited(items, limit, call) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await call(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// Each day's closing balance per account, counted from the period's first day: the API sums a period's
// journal (it keeps no opening balance), so one call per day gives that day's movement, exact, and a
// running sum of those integers gives the closings. Days after today (UTC) have no closing yet.
async function closingBalances(api, currency, first, last) {
  const shown = days(first, last < today() ? last : today());
  const movements = await eachLimited(shown, PARALLEL_CALLS, (day) => api.get("/ledger/balances", { currency, from: day, to: day }));
  return closings(shown, movements);
}

// `movements[i]`: the balances answer of `shown[i]` alone. Each row holds every account's running sum.
export function closings(shown, movements) {
  const running = new Map();
  const rows = movements.map((answer, i) => {
    for (const { account, balance } of answer.accounts) {
      const total = (running.get(account) ?? 0) + balance;
      if (!Number.isSafeInteger(total)) throw new Error(`${account}: a balance beyond exact integers`);
      running.set(account, total);
    }
    return { day: shown[i], closing: new Map(running) };
  });
  // The accounts that moved in the period: the others stay at zero throughout.
  const accounts = [...running.keys()].filter((account) => rows.some((row) => row.closing.get(account) !== 0));
  return { rows, accounts };
}

function balancesOverTime(currency, first, last, { rows, accounts }) {
  const c = currency;
  const heading = h("h3", { id: "over-time-title" }, `Balances over time, ${c.toUpperCase()}, ${first} to ${rows.length ? rows[rows.length - 1].day : last}`);
  const note = h("p", { class: "muted" }, `Each UTC day's closing balance, counted from ${first} (the books are summed per period; there is no opening balance). At most ${MAX_CHART_DAYS} days; days after today are left out.`);
  if (!rows.length || !accounts.length) return h("section", { "aria-labelledby": "over-time-title", id: "over-time" }, heading, note, h("p", {}, "No account moved in this period."));
  const series = accounts.map((account) => ({ name: account, values: rows.map((row) => row.closing.get(account)) }));
  return h(
    "section",
    { "aria-labelledby": "over-time-title", id: "over-time" },
    heading,
    note,
    lineChart({
      title: `Closing balances per day, ${c.toUpperCase()}`,
      description: "The same numbers are in the table below.",
      labels: rows.map((row) => row.day),
      series,
      format: (value) => money(value, c),
    }),
    table("Closing balances per day (debits positive, credits negative)", ["Day", ...accounts], rows.map((row) => [row.day, ...accounts.map((account) => money(row.closing.get(account), c))])),
  );
}

export async function ledgerView(api, root) {
  const currency = h("input", { name: "currency", value: "usd", size: 4, maxlength: 3, required: true });
  const from = h("input", { name: "from", type: "date", value: today(), required: true });
  const to = h("input", { name: "to", type: "date", value: today(), required: true });
  const results = h("div");
  const overTime = h("div");
  const period = () => ({ currency: currency.value.trim().toLowerCase(), from: from.value, to: to.value });
  async function load() {
    const query = period();
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
  async function chart() {
    const query = period();
    const count = days(query.from, query.to).length;
    if (!count) {
      replace(overTime, problemView({ title: "The period ends before it starts", detail: `${query.to} is before ${query.from}.` }));
      return;
    }
    if (count > MAX_CHART_DAYS) {
      replace(overTime, problemView({ title: `Balances over time cover at most ${MAX_CHART_DAYS} days`, detail: `${query.from} to ${query.to} is ${count} days: choose a shorter period.` }));
      return;
    }
    replace(overTime, h("p", { role: "status" }, "Reading the balances day by day..."));
    try {
      const found = await closingBalances(api, query.currency, query.from, query.to);
      replace(overTime, balancesOverTime(query.currency, query.from, query.to, found));
    } catch (error) {
      replace(overTime, problemView(error));
    }
  }
  const overTimeButton = h("button", { type: "button", class: "secondary" }, `Balances over time (up to ${MAX_CHART_DAYS} days)`);
  const form = h("form", { class: "panel inline", "aria-label": "Ledger period" }, field("Currency", currency), field("From (UTC day)", from), field("To (UTC day)", to), h("button", { type: "submit" }, "Show balances"), overTimeButton);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  overTimeButton.addEventListener("click", () => {
    if (form.reportValidity()) chart();
  });
  replace(root, h("h2", {}, "Ledger"), form, overTime, results);
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
