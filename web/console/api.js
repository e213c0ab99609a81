// The API client: bearer token, JSON in and out, an Idempotency-Key of its own for every change, and
// errors as the API's problem details (application/problem+json, RFC 9457).

export class ApiProblem extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    Object.assign(this, problem);
    this.status = status;
  }
}

const CHANGES = new Set(["POST", "PUT", "DELETE", "PATCH"]);

export class Api {
  constructor(base, token) {
    this.base = base.replace(/\/$/, "");
    this.token = token; // a function: the current access token
  }

  url(path, query) {
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    return url;
  }

  async call(method, path, { body, query, idempotencyKey } = {}) {
    const headers = { Accept: "application/json" };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (CHANGES.has(method)) headers["Idempotency-Key"] = idempotencyKey || crypto.randomUUID();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(this.url(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiProblem(0, { title: "The API could not be reached", detail: String(error.message || error) });
    }
    if (response.status === 204) return null;
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = { title: text.slice(0, 200) };
    }
    if (!response.ok) throw new ApiProblem(response.status, data || { title: response.statusText });
    return data;
  }

  get(path, query) {
    return this.call("GET", path, { query });
  }

  post(path, body, options = {}) {
    return this.call("POST", path, { body, ...options });
  }

  put(path, body) {
    return this.call("PUT", path, { body });
  }

  delete(path) {
    return this.call("DELETE", path);
  }
}
