// A change the admin confirms first: the confirmation dialog, the request (its own Idempotency-Key, from
// the API client) and its outcome, a notice or the problem details, shown in `status`. Resolves to the
// answer (true for an empty 204), or null when the admin said no or the API refused.
import { confirmAction, h, problemView, replace } from "../dom.js";

export async function confirmed(status, { title, message, label, done }, request) {
  if (!(await confirmAction(title, message, label))) return null;
  try {
    const result = await request();
    replace(status, h("div", { class: "notice", role: "status" }, done));
    return result ?? true;
  } catch (error) {
    replace(status, problemView(error));
    return null;
  }
}
