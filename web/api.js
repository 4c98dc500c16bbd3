// The dashboard's only door to the server: the JSON API of design.md ("The HTTP API").
// The session lives in an HttpOnly cookie the page cannot read; the CSRF token
// returned by /api/login and /api/me is kept here, in memory only, and sent on
// every state-changing request.

let csrfToken = '';
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Called when any request answers 401: the session expired or was logged out elsewhere.
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function setCsrfToken(token) {
  csrfToken = token || '';
}

async function request(method, path, { json, body, contentType } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (contentType) {
    headers['Content-Type'] = contentType;
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'The server cannot be reached. Check the network and try again.');
  }
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/login') onUnauthorized();
  if (!res.ok) {
    const fallback = {
      401: 'Please log in.',
      403: 'Your role does not allow this.',
      404: 'Not found.',
    }[res.status] || `The server answered ${res.status}.`;
    throw new ApiError(res.status, (data && data.error) || fallback);
  }
  return data;
}

const enc = encodeURIComponent;

export const api = {
  me: () => request('GET', '/api/me'),
  login: (username, password) => request('POST', '/api/login', { json: { username, password } }),
  logout: () => request('POST', '/api/logout'),

  calls: (limit = 200) => request('GET', `/api/calls?limit=${limit}`),
  call: (sid) => request('GET', `/api/calls/${enc(sid)}`),
  markHandled: (sid) => request('POST', `/api/calls/${enc(sid)}/handled`),
  correctCategory: (sid, category) =>
    request('POST', `/api/calls/${enc(sid)}/feedback`, { json: { category } }),

  spamList: (q = '', limit = 500) => request('GET', `/api/spam?q=${enc(q)}&limit=${limit}`),
  spamAdd: (number, reason) => request('POST', '/api/spam', { json: { number, reason } }),
  spamRemove: (e164) => request('DELETE', `/api/spam/${enc(e164)}`),
  spamImport: (csvText) =>
    request('POST', '/api/spam/import', { body: csvText, contentType: 'text/csv' }),
  spamExportUrl: '/api/spam/export',

  stats: (hours = 24) => request('GET', `/api/stats?hours=${hours}`),

  users: () => request('GET', '/api/users'),
  userAdd: (username, password, role) =>
    request('POST', '/api/users', { json: { username, password, role } }),
};
