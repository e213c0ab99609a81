// A customer pays a sample order: the order's token from the local Order Service stand-in, a test card
// (the page never takes a card number: Stripe's test payment methods, or a card saved before), 3-D
// Secure on the emulator's page when the bank asks, then the result and the payment's history.
import { Api } from "/console/api.js";
import { accessToken, loadConfig, localSignIn, signOut, tokenClaims } from "/console/auth.js";
import { field, h, money, problemView, replace, when } from "/console/dom.js";

const TEST_CARDS = [
  ["pm_card_visa", "Visa •••• 4242", "succeeds"],
  ["pm_card_mastercard", "Mastercard •••• 4444", "succeeds"],
  ["pm_card_authenticationRequired", "Visa •••• 3184", "asks for 3-D Secure"],
  ["pm_card_chargeDeclined", "Visa •••• 0002", "declined"],
  ["pm_card_chargeDeclinedInsufficientFunds", "Visa •••• 9995", "declined: insufficient funds"],
  ["pm_card_createDispute", "Visa •••• 0259", "paid, then disputed"],
];
const FINAL = new Set(["succeeded", "failed", "canceled", "requires_capture", "refunded", "partially_refunded"]);
const POLL_MS = 500;
const POLL_LIMIT_MS = 5 * 60 * 1000;

const main = document.getElementById("main");

function signInForm(config) {
  const sub = h("input", { name: "sub", value: "alice", required: true, autocomplete: "username" });
  const error = h("div");
  const form = h("form", { class: "panel inline", "aria-labelledby": "signin-title" }, h("h2", { id: "signin-title" }, "Sign in (local customer)"), field("Customer", sub), h("button", { type: "submit" }, "Sign in"), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await localSignIn("customer", sub.value.trim());
      start(config);
    } catch (failure) {
      replace(error, problemView({ title: "Sign-in failed", detail: failure.message }));
    }
  });
  return form;
}

async function localCall(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${accessToken()}` },
    body: body ? JSON.stringify(body) : undefined,
    credentials: "omit",
  });
  const data = await response.json();
  if (!response.ok) throw Object.assign(new Error(data.detail), data);
  return data;
}

function radios(legend, name, options) {
  return h(
    "fieldset",
    { class: "cards" },
    h("legend", {}, legend),
    options.map(([value, label, note], index) => h("label", {}, h("input", { type: "radio", name, value, required: true, checked: index === 0 }), h("span", {}, h("strong", {}, label), note ? h("span", { class: "muted" }, ` ${note}`) : null))),
  );
}

function cardLabel(method) {
  const card = method.card || {};
  return `${card.brand || "card"} •••• ${card.last4 || "????"}`;
}

function challengeUrl(nextAction) {
  if (!nextAction) return null;
  return nextAction.redirect_to_url?.url || nextAction.use_stripe_sdk?.stripe_js || null;
}

async function showHistory(api, root, payment) {
  const history = await api.get(`/payments/${payment.id}/events`);
  root.append(h("section", { "aria-labelledby": "history-title" }, h("h3", { id: "history-title" }, "History"), h("ol", { class: "timeline" }, history.data.map((e) => h("li", {}, h("strong", {}, e.event_type), ` · ${when(e.occurred_at)}`)))));
}

async function showResult(api, root, payment) {
  const good = payment.status === "succeeded" || payment.status === "requires_capture";
  const text = good ? `Paid ${money(payment.amount, payment.currency)}. Thank you!` : `Payment ${payment.status}${payment.failure ? `: ${payment.failure.message}` : ""}`;
  replace(root, h("p", { class: `result ${good ? "good" : "bad"}`, role: "status", id: "result" }, text), h("p", { class: "muted" }, `Payment ${payment.id} for order ${payment.order_id}`));
  await showHistory(api, root, payment);
}

// 3-D Secure: the bank's page (the emulator's) in its own window; this page waits for the outcome.
async function authenticate(api, root, payment) {
  const url = challengeUrl(payment.next_action);
  const link = h("a", { href: url, target: "_blank", rel: "noopener noreferrer", id: "challenge" }, "Confirm with your bank (3-D Secure)");
  replace(root, h("p", { role: "status" }, "Your bank asks you to confirm this payment."), h("p", {}, link), h("p", { class: "muted", id: "waiting" }, "Waiting for your bank…"));
  const started = Date.now();
  while (Date.now() - started < POLL_LIMIT_MS) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const current = await api.get(`/payments/${payment.id}`);
    if (current.status !== "requires_action" && current.status !== "pending" && current.status !== "processing") return current;
  }
  return api.get(`/payments/${payment.id}`);
}

async function checkout(api, root) {
  const [orders, saved] = await Promise.all([localCall("GET", "/_local/orders"), api.get("/payment-methods", { limit: 20 })]);
  const orderChoice = radios("Order", "item", orders.data.map((o) => [o.item, o.description, money(o.amount, o.currency)]));
  const savedCards = saved.data.map((m) => [m.id, `Saved: ${cardLabel(m)}`, "saved before"]);
  const cardChoice = radios("Card (test payment methods)", "card", [...savedCards, ...TEST_CARDS]);
  const save = h("input", { type: "checkbox", name: "save", id: "save-card" });
  const pay = h("button", { type: "submit", id: "pay" }, "Pay");
  const outcome = h("div", { id: "outcome" });
  const form = h("form", { "aria-label": "Checkout" }, orderChoice, cardChoice, h("p", {}, save, " ", h("label", { for: "save-card" }, "Save this card for my next purchase")), pay);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    pay.disabled = true;
    const data = new FormData(form);
    try {
      const order = await localCall("POST", "/_local/order-token", { item: data.get("item") });
      let method = data.get("card");
      if (save.checked && !savedCards.some(([id]) => id === method)) method = (await api.post("/payment-methods", { payment_method_id: method })).id;
      let payment = await api.post("/payments", { order_token: order.order_token, payment_method_id: method, description: order.description });
      if (payment.status === "requires_action" && challengeUrl(payment.next_action)) payment = await authenticate(api, outcome, payment);
      while (!FINAL.has(payment.status)) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        payment = await api.get(`/payments/${payment.id}`);
      }
      await showResult(api, outcome, payment);
    } catch (error) {
      replace(outcome, problemView(error));
      pay.disabled = false;
    }
  });
  replace(root, h("h2", {}, "Pay for an order"), form, outcome);
}

function start(config) {
  const token = accessToken();
  const who = document.getElementById("who");
  if (!token) {
    replace(who);
    replace(main, signInForm(config));
    return;
  }
  replace(who, h("span", {}, tokenClaims(token).sub), h("button", { type: "button", class: "secondary", onclick: () => signOut(config.auth) }, "Sign out"));
  checkout(new Api(config.api_base, accessToken), main).catch((error) => replace(main, problemView(error)));
}

loadConfig()
  .then(start)
  .catch((error) => replace(main, problemView({ title: "The checkout could not start", detail: error.message })));
