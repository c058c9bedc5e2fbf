// The page's client of the public /v1 API: the caller's credentials (kept in the browser's
// localStorage), JSON calls whose errors carry the API's code and message, and transfers to
// and from the presigned storage URLs with their progress.

const STORAGE_KEY = "voxregen.credentials";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The caller: {kind: "api_key" | "user_id", value}, or null when none is kept. */
export function credentials() {
  try {
    const kept = JSON.parse(window.localStorage.getItem(STORAGE_KEY));
    return kept && (kept.kind === "api_key" || kept.kind === "user_id") && kept.value ? kept : null;
  } catch {
    return null;
  }
}

export function keepCredentials(kind, value) {
  window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ kind, value }));
}

export function forgetCredentials() {
  window.localStorage.removeItem(STORAGE_KEY);
}

/** A version 4 UUID; crypto.randomUUID exists only in secure contexts (https, localhost). */
export function uuid4() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function authHeaders(caller) {
  if (!caller) return {};
  return caller.kind === "api_key" ? { Authorization: `Bearer ${caller.value}` } : { "X-User-Id": caller.value };
}

/** The ApiError of a request the view stopped (its AbortSignal fired). */
function aborted() {
  return new ApiError(0, "aborted", "stopped: the page moved on");
}

/** The JSON answer of `method path` (null for a 204); an error answer throws ApiError. Every
 * POST carries an Idempotency-Key, as the API recommends. `signal` stops it. */
export async function call(method, path, { body, query, caller = credentials(), signal } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json", ...authHeaders(caller) };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method === "POST") headers["Idempotency-Key"] = uuid4();
  let response;
  try {
    response = await fetch(url, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    if (signal && signal.aborted) throw aborted();
    throw new ApiError(0, "unreachable", `the service did not answer (${error.message})`);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new ApiError(response.status, `http_${response.status}`, text.slice(0, 200) || response.statusText);
  }
  if (!response.ok) {
    const error = (answer && answer.error) || {};
    const problems = (error.problems || []).map((problem) => `${problem.path}: ${problem.message}`);
    const message = [error.message || response.statusText, ...problems].join("; ");
    throw new ApiError(response.status, error.code || `http_${response.status}`, message);
  }
  return answer;
}


/** PUT `file` to a presigned upload URL; onProgress(sentBytes, totalBytes). XMLHttpRequest,
 * because fetch reports no upload progress. `signal` stops it. */
export function upload(url, file, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    if (signal) {
      if (signal.aborted) return reject(aborted());
      signal.addEventListener("abort", () => request.abort());
    }
    request.addEventListener("abort", () => reject(aborted()));
    request.open("PUT", url);
    request.setRequestHeader("Content-Type", "audio/wav");
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.total || file.size));
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) {
        onProgress(file.size, file.size);
        resolve();
        return;
      }
      let code = `http_${request.status}`;
      let message = `the storage refused the upload (HTTP ${request.status})`;
      try {
        const error = JSON.parse(request.responseText).error;
        code = error.code;
        message = error.message;
      } catch {
        // S3 answers XML: the status says enough
      }
      reject(new ApiError(request.status, code, message));
    });
    request.addEventListener("error", () => reject(new ApiError(0, "unreachable", "the upload was cut off: the storage could not be reached")));
    request.send(file);
  });
}

/** The bytes behind a presigned download URL, as a Blob of audio/wav; onProgress(got, total).
 * `signal` stops it. */
export async function download(url, onProgress, signal) {
  let response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    if (signal && signal.aborted) throw aborted();
    throw new ApiError(0, "unreachable", `the storage could not be reached (${error.message})`);
  }
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, `the storage answered HTTP ${response.status}`);
  const total = Number(response.headers.get("Content-Length")) || 0;
  const reader = response.body.getReader();
  const parts = [];
  let got = 0;
  for (;;) {
    let read;
    try {
      read = await reader.read();
    } catch (error) {
      if (signal && signal.aborted) throw aborted();
      throw new ApiError(0, "unreachable", `the download was cut off (${error.message})`);
    }
    const { done, value } = read;
    if (done) break;
    parts.push(value);
    got += value.length;
    onProgress(got, total || got);
  }
  return new Blob(parts, { type: "audio/wav" });
}
