// The console's entry: configuration, sign-in, and one view per section (views/*.js), chosen by the hash.
import { Api } from "./api.js";
import { accessToken, finishCognitoSignIn, isAdmin, loadConfig, localSignIn, signOut, startCognitoSignIn, tokenClaims } from "./auth.js";
import { field, h, problemView, replace } from "./dom.js";
import { disputeView, disputesView } from "./views/disputes.js";
import { ledgerView, reconciliationView, runView } from "./views/ledger.js";
import { operationsView } from "./views/operations.js";
import { paymentView, paymentsView } from "./views/payments.js";
import { reviewsView, riskView } from "./views/risk.js";

const ROUTES = [
  [/^#\/payments\/([^/]+)$/, paymentView],
  [/^#\/payments$/, paymentsView],
  [/^#\/reviews$/, reviewsView],
  [/^#\/risk$/, riskView],
  [/^#\/disputes\/([^/]+)$/, disputeView],
  [/^#\/disputes$/, disputesView],
  [/^#\/ledger$/, ledgerView],
  [/^#\/reconciliation\/([^/]+)$/, runView],
  [/^#\/reconciliation$/, reconciliationView],
  [/^#\/operations$/, operationsView],
];

const main = document.getElementById("main");

function signInForm(config) {
  if (config.auth.kind === "cognito") {
    const button = h("button", { type: "button", onclick: () => startCognitoSignIn(config.auth) }, "Sign in");
    return h("section", {}, h("h2", {}, "Sign in"), h("p", {}, "Sign in with your back-office account."), button);
  }
  const sub = h("input", { name: "sub", value: "backoffice", required: true, autocomplete: "username" });
  const error = h("div");
  const form = h(
    "form",
    { class: "panel inline", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Local sign-in (admin)"),
    field("Admin user", sub),
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await localSignIn("admin", sub.value.trim());
      location.hash ||= "#/payments";
      start(config);
    } catch (failure) {
      replace(error, problemView({ title: "Sign-in failed", detail: failure.message }));
    }
  });
  return form;
}

async function show(api) {
  const hash = location.hash || "#/payments";
  for (const link of document.querySelectorAll("nav a")) {
    const current = hash === link.getAttribute("href") || hash.startsWith(`${link.getAttribute("href")}/`);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const [pattern, view] = ROUTES.find(([route]) => route.test(hash)) || ROUTES[1];
  const parameters = pattern.exec(hash)?.slice(1).map(decodeURIComponent) || [];
  replace(main, h("p", {}, "Loading…"));
  try {
    await view(api, main, ...parameters);
  } catch (error) {
    replace(main, problemView(error));
  }
  main.focus();
}

function start(config) {
  const token = accessToken();
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!token) {
    nav.hidden = true;
    replace(who);
    replace(main, signInForm(config));
    return;
  }
  const claims = tokenClaims(token) || {};
  nav.hidden = false;
  replace(
    who,
    h("span", {}, `${claims.username || claims.sub}${isAdmin(claims) ? " (admin)" : " (not an admin: most pages will be refused)"}`),
    h("button", { type: "button", class: "secondary", onclick: () => signOut(config.auth) }, "Sign out"),
  );
  const api = new Api(config.api_base, accessToken);
  window.onhashchange = () => show(api);
  show(api);
}

async function boot() {
  try {
    const config = await loadConfig();
    if (config.auth.kind === "cognito") await finishCognitoSignIn(config.auth);
    start(config);
  } catch (error) {
    replace(main, problemView({ title: "The console could not start", detail: error.message }));
  }
}

boot();
