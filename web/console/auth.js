// Who is signed in. config.json names the kind:
// - "cognito": Authorization Code with PKCE against Cognito's hosted UI. The code_verifier and state wait in
//   sessionStorage during the round trip; the code is exchanged at /oauth2/token and the query is taken out
//   of the address bar at once, so no code or token stays in a URL or the history.
// - "local": the local stack's sign-in (POST /_local/sign-in), local only.
// The access token is kept in sessionStorage (this tab only), never in a URL.

// Per page (console, checkout): the same origin serves both, and each keeps its own sign-in.
const PAGE = location.pathname.split("/")[1] || "console";
const TOKEN = `payments.${PAGE}.access_token`;
const VERIFIER = "payments.pkce_verifier";
const STATE = "payments.pkce_state";

export async function loadConfig() {
  const response = await fetch("config.json", { cache: "no-store", credentials: "omit" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return response.json();
}

export function accessToken() {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) return null;
  const claims = tokenClaims(token);
  if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) {
    sessionStorage.removeItem(TOKEN);
    return null;
  }
  return token;
}

// What the token says of its holder, for display only: the API decides what anyone may do.
export function tokenClaims(token = sessionStorage.getItem(TOKEN)) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  } catch {
    return null;
  }
}

export function isAdmin(claims) {
  const groups = claims && claims["cognito:groups"];
  return Array.isArray(groups) ? groups.includes("payments-admin") : false;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

export async function startCognitoSignIn(auth) {
  const verifier = randomText(48);
  const state = randomText(16);
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const url = new URL("/oauth2/authorize", auth.domain);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: auth.client_id,
    redirect_uri: auth.redirect_uri,
    scope: (auth.scopes || ["openid"]).join(" "),
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(url);
}

// Back from the hosted UI with ?code=&state=: exchange the code, then clear the address bar.
export async function finishCognitoSignIn(auth) {
  const query = new URLSearchParams(location.search);
  if (!query.has("code") && !query.has("error")) return false;
  history.replaceState(null, "", location.pathname + location.hash);
  const verifier = sessionStorage.getItem(VERIFIER);
  const expected = sessionStorage.getItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  if (query.has("error")) throw new Error(`Sign-in failed: ${query.get("error_description") || query.get("error")}`);
  if (!verifier || !expected || query.get("state") !== expected) throw new Error("Sign-in failed: the answer does not match this sign-in");
  const response = await fetch(new URL("/oauth2/token", auth.domain), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: auth.client_id,
      code: query.get("code"),
      redirect_uri: auth.redirect_uri,
      code_verifier: verifier,
    }),
    credentials: "omit",
  });
  if (!response.ok) throw new Error(`Sign-in failed: the token endpoint answered ${response.status}`);
  const tokens = await response.json();
  sessionStorage.setItem(TOKEN, tokens.access_token);
  return true;
}

export async function localSignIn(role, sub) {
  const response = await fetch("/_local/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ role, sub }),
    credentials: "omit",
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
  sessionStorage.setItem(TOKEN, body.access_token);
}

export function signOut(auth) {
  sessionStorage.removeItem(TOKEN);
  if (auth.kind === "cognito") {
    const url = new URL("/logout", auth.domain);
    url.search = new URLSearchParams({ client_id: auth.client_id, logout_uri: auth.redirect_uri });
    location.assign(url);
  } else {
    location.reload();
  }
}
