// Building the page from data: every text goes in as textContent, never as HTML.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

function fractionDigits(currency) {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions()
    .maximumFractionDigits;
}

// Minor units (integers, as the API keeps them) shown in the currency's major unit.
export function money(amount, currency) {
  if (!Number.isInteger(amount) || !currency) return "-";
  const code = currency.toUpperCase();
  const digits = fractionDigits(code);
  const sign = amount < 0 ? "-" : "";
  const text = String(Math.abs(amount)).padStart(digits + 1, "0");
  const major = digits ? `${text.slice(0, -digits)}.${text.slice(-digits)}` : text;
  return `${sign}${major} ${code}`;
}

// "12.5" USD -> 1250; no floating point on the way. Null when the text is not an amount.
export function toMinor(text, currency) {
  const digits = fractionDigits(currency.toUpperCase());
  const pattern = digits ? new RegExp(`^(\\d+)(?:\\.(\\d{1,${digits}}))?$`) : /^(\d+)$/;
  const match = pattern.exec(String(text).trim());
  if (!match) return null;
  const minor = Number(match[1] + (match[2] || "").padEnd(digits, "0"));
  return Number.isSafeInteger(minor) ? minor : null;
}

export function when(iso) {
  return iso ? new Date(iso).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "-";
}

export function definitions(rows) {
  return h("dl", { class: "facts" }, rows.map(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "-")]));
}

export function table(caption, headings, rows) {
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headings.map((heading) => h("th", { scope: "col" }, heading)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell ?? "-"))))),
  );
}

export function json(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}

// A labelled input; `attributes` go to the input (or select, textarea).
export function field(label, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

// An error of the API (problem details) or of the network, in an alert region.
export function problemView(error) {
  const lines = [error.title || "Request failed"];
  if (error.detail && error.detail !== error.title) lines.push(error.detail);
  const extra = [];
  if (error.status) extra.push(`HTTP ${error.status}`);
  if (error.code) extra.push(`code ${error.code}`);
  if (error.decline_code) extra.push(`decline ${error.decline_code}`);
  const fields = (error.errors || []).map((e) => h("li", {}, `${(e.loc || e.field || []).toString()}: ${e.msg || e.message || JSON.stringify(e)}`));
  return h(
    "div",
    { class: "problem", role: "alert" },
    h("strong", {}, lines[0]),
    lines[1] ? h("p", {}, lines[1]) : null,
    extra.length ? h("p", { class: "muted" }, extra.join(" · ")) : null,
    fields.length ? h("ul", {}, fields) : null,
  );
}

// Ask before a change: a modal <dialog> (keyboard and screen reader friendly). Resolves true or false.
export function confirmAction(title, message, confirmLabel) {
  return new Promise((resolve) => {
    const ok = h("button", { type: "submit", value: "yes", class: "danger" }, confirmLabel);
    const cancel = h("button", { type: "submit", value: "no" }, "Cancel");
    const dialog = h(
      "dialog",
      { "aria-labelledby": "confirm-title" },
      h("form", { method: "dialog" }, h("h2", { id: "confirm-title" }, title), h("p", {}, message), h("div", { class: "actions" }, cancel, ok)),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
