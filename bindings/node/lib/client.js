'use strict';
// client.js — Client: the same calls as Store, asynchronous, against agentbudgetd's HTTP API
// (docs/http-api.md) with the global fetch (Node.js 18+). An HTTP error becomes a thrown Error
// with .status (the HTTP status), .code (the daemon's code: "invalid", "not_found", …) and
// .field when one is to blame. Exact *_nusd amounts come back as decimal strings, as from
// Store.
const v = require('./validate');

const PATH_SAFE = /[^A-Za-z0-9._:@\/-]/g;

// A segment "." or ".." never reaches the URL: fetch resolves it (written %2e too, by the URL
// standard), so the budget "../tokens" would be the route /v1/tokens (revoking a token for a
// deleteBudget). The daemon refuses such paths anyway; here they never leave.
function noDotSegments(p, name, what) {
  if (p.split('/').some((s) => s === '.' || s === '..')) throw v.rangeError(name, `${what} without a "." or ".." segment`, p);
  return p;
}

// A budget path in a URL: its slashes kept, anything but [A-Za-z0-9._:@-] escaped.
function encodePath(p, name) {
  return noDotSegments(p, name, 'a budget path').replace(PATH_SAFE, (c) => encodeURIComponent(c));
}

// One URL segment (a hold id, a role name, a token id).
function encodeSegment(s, name) {
  return encodeURIComponent(noDotSegments(s, name, 'a name'));
}

// JSON with every "…_nusd": integer turned into a string before parsing, so that nano-USD
// amounts past 2^53 stay exact. (Inside a JSON string a quote is escaped, so the pattern cannot
// match there.)
function parseJson(text) {
  return JSON.parse(text.replace(/"(\w+_nusd)":(-?\d+)/g, '"$1":"$2"'));
}

const TIMEOUT_MS_MAX = 2 ** 31 - 1;

// A header's value: printable ASCII without spaces (what the daemon takes for a token or an
// idempotency key), refused here, not by fetch as if the daemon could not be reached.
function headerValue(s, name) {
  v.nonEmptyString(s, name);
  if (!/^[\x21-\x7e]+$/.test(s)) throw v.rangeError(name, 'printable ASCII without spaces', s);
  return s;
}

// The daemon's base URL: http:// or https://, a host, no query or fragment (the paths are
// added to it: "…?x=1" would take them into the query, "…#" would drop them), no user or
// password (the token goes in options.token). Refused here, a RangeError, rather than as
// "unreachable" (retryable) at the first request.
function checkUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    throw v.rangeError('options.url', 'an http:// or https:// URL (it does not parse as a URL)', url);
  }
  if (!/^https?:$/.test(u.protocol) || !/^https?:\/\/[^/]/i.test(url) || !u.hostname) {
    throw v.rangeError('options.url', 'an http:// or https:// URL with a host', url);
  }
  if (/[?#]/.test(url)) {
    throw v.rangeError('options.url', 'a base URL without a query (?) or fragment (#): the client adds the paths', url);
  }
  if (u.username || u.password) {
    throw v.rangeError('options.url', 'a URL without a user or password (the token goes in options.token)', url);
  }
}

class Client {
  // options: url (default $AGENTBUDGET_URL, else http://127.0.0.1:8700), token (default
  // $AGENTBUDGET_TOKEN), timeoutMs (default 30000), fetch (default the global fetch).
  constructor(options) {
    const o = v.optionsObject(options, 'options', ['url', 'token', 'timeoutMs', 'fetch']);
    const url = o.url === undefined ? (process.env.AGENTBUDGET_URL || 'http://127.0.0.1:8700') : o.url;
    v.nonEmptyString(url, 'options.url');
    checkUrl(url);
    this.url = url.replace(/\/+$/, '');
    this.token = o.token === undefined ? (process.env.AGENTBUDGET_TOKEN || null) : o.token;
    if (this.token !== null) headerValue(this.token, 'options.token');
    this.timeoutMs = o.timeoutMs === undefined ? 30000 : v.wholeNumber(o.timeoutMs, 'options.timeoutMs', true);
    if (this.timeoutMs > TIMEOUT_MS_MAX) {
      throw v.rangeError('options.timeoutMs', `a whole number of milliseconds from 1 to ${TIMEOUT_MS_MAX} (Node.js timers' most)`, this.timeoutMs);
    }
    this._fetch = o.fetch || globalThis.fetch;
    if (typeof this._fetch !== 'function') {
      throw v.typeError('options.fetch', 'a function (this Node.js has no global fetch)', this._fetch);
    }
  }

  // One request. Resolves to the parsed JSON answer; rejects with an Error carrying .status
  // and .code (the daemon's error code; with status 0, "unreachable" if there was no answer,
  // "timeout" if none came within timeoutMs: a write may then have been made, so retry it with
  // the same idempotency key).
  async request(method, path, body, options) {
    const headers = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options && options.key !== undefined && options.key !== null) {
      headers['idempotency-key'] = headerValue(options.key, 'options.key');
    }
    let res;
    let text;
    try {
      res = await this._fetch(this.url + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      const timeout = cause && cause.name === 'TimeoutError';
      const why = timeout ? `no answer within ${this.timeoutMs} ms` : (cause && cause.cause ? cause.cause.message : cause && cause.message);
      const e = new Error(`agentbudgetd at ${this.url}: ${why}`, { cause });
      e.status = 0;
      e.code = timeout ? 'timeout' : 'unreachable';
      throw e;
    }
    if (!res || typeof res.text !== 'function' || typeof res.status !== 'number') {
      throw v.typeError('options.fetch', 'a function that resolves to a Response', res);
    }
    try {
      text = await res.text();
    } catch (cause) {
      const timeout = cause && cause.name === 'TimeoutError';
      const e = new Error(`agentbudgetd at ${this.url}: the answer was cut off (${timeout ? 'timeout' : cause.message})`, { cause });
      e.status = 0;
      e.code = timeout ? 'timeout' : 'unreachable';
      throw e;
    }
    let data = null;
    try {
      data = text ? parseJson(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const err = data && data.error ? data.error : {};
      const code = err.code || `http_${res.status}`;
      const e = new Error(`agentbudgetd: ${err.message || `HTTP ${res.status}`} (${res.status} ${code})`);
      e.status = res.status;
      // the daemon's own "no budget …" (or "no hold …"), not any 404 (a wrong URL, a proxy)
      e.notFound = res.status === 404 && err.code === 'not_found' && /^no (budget|hold) /.test(err.message || '');
      e.code = code;
      if (err.field) e.field = err.field;
      if (res.status === 429 || res.status === 503) e.retryAfter = Number(res.headers.get('retry-after')) || null;
      throw e;
    }
    if (data === null) {
      const e = new Error(`agentbudgetd: the answer to ${method} ${path} is ${text ? 'not JSON' : 'empty'}`);
      e.status = res.status;
      e.code = 'bad_response';
      throw e;
    }
    return data;
  }

  health() {
    return this.request('GET', '/healthz');
  }

  // ---- the original budget-tracker.js API, asynchronous ----

  async initializeBudget(agentId, role, sessionTokenLimit, dailyCostLimit, options) {
    v.nonEmptyString(agentId, 'agentId');
    v.nonEmptyString(role, 'role');
    v.wholeNumber(sessionTokenLimit, 'sessionTokenLimit', true);
    const usd = v.usdAmount(dailyCostLimit, 'dailyCostLimit', true);
    const o = v.optionsObject(options, 'options', ['model', 'key']);
    const body = { role, limits: [`tokens/session=${sessionTokenLimit}`, `usd/day=${usd}`] };
    if (v.optionalString(o.model, 'options.model') !== null) body.model = o.model;
    return this.request('PUT', `/v1/budgets/${encodePath(agentId, 'agentId')}`, body, o);
  }

  async checkBudget(agentId, estimatedTokens) {
    v.nonEmptyString(agentId, 'agentId');
    v.wholeNumber(estimatedTokens, 'estimatedTokens');
    try {
      const d = await this.request('POST', '/v1/check', { budget: agentId, tokens: estimatedTokens });
      return { allowed: d.allowed, reason: d.reason };
    } catch (e) {
      // an unknown budget (or one outside this token's scope) is a denial: fail closed
      if (e.notFound) return { allowed: false, reason: `no budget '${agentId}' (initializeBudget it first)` };
      throw e;
    }
  }

  async deductBudget(agentId, inputTokens, outputTokens, options) {
    v.nonEmptyString(agentId, 'agentId');
    v.wholeNumber(inputTokens, 'inputTokens');
    v.wholeNumber(outputTokens, 'outputTokens');
    // one request: the charge answers with the status it left ("status": true), so no other
    // writer's change comes between the two, as it could between a charge and a GET
    const o = v.optionsObject(options, 'options', ['model', 'key']);
    const body = { budget: agentId, usage: { input: inputTokens, output: outputTokens }, status: true };
    if (v.optionalString(o.model, 'options.model') !== null) body.model = o.model;
    const d = await this.request('POST', '/v1/charge', body, o);
    if (!d || typeof d.status !== 'object' || d.status === null) {
      const e = new Error('agentbudgetd: the answer to POST /v1/charge has no status (is this agentbudgetd?)');
      e.status = 200;
      e.code = 'bad_response';
      throw e;
    }
    return d.status;
  }

  async getBudgetStatus(agentId) {
    try {
      return await this.getBudget(agentId);
    } catch (e) {
      if (e.notFound) return null;
      throw e;
    }
  }

  resetSession(agentId, options) {
    return this.reset(agentId, ['session'], options);
  }

  resetDaily(agentId, options) {
    return this.reset(agentId, ['day'], options);
  }

  // ---- beside them ----

  async getBudget(path) {
    v.nonEmptyString(path, 'path');
    return this.request('GET', `/v1/budgets/${encodePath(path, 'path')}`);
  }

  async setBudget(path, spec) {
    v.nonEmptyString(path, 'path');
    const o = v.optionsObject(spec, 'spec', v.SET_BUDGET_KEYS);
    const body = {};
    for (const k of ['role', 'model', 'limits', 'unset', 'replace_limits', 'no_role_defaults']) {
      if (o[k] !== undefined) body[k] = o[k];
    }
    return this.request('PUT', `/v1/budgets/${encodePath(path, 'path')}`, body, o);
  }

  async deleteBudget(path, options) {
    v.nonEmptyString(path, 'path');
    return this.request('DELETE', `/v1/budgets/${encodePath(path, 'path')}`, undefined, v.optionsObject(options, 'options', ['key']));
  }

  async listBudgets(prefix) {
    const q = prefix ? `?prefix=${encodeURIComponent(v.nonEmptyString(prefix, 'prefix'))}` : '';
    return (await this.request('GET', `/v1/budgets${q}`)).budgets;
  }

  async reset(agentId, windows, options) {
    v.nonEmptyString(agentId, 'agentId');
    v.windows(windows, 'windows');
    const list = windows === 'all' ? 'all'
      : (typeof windows === 'string' ? [windows] : windows).map((w) => ({ daily: 'day', monthly: 'month' }[w] || w));
    return this.request('POST', '/v1/reset', { budget: agentId, windows: list }, v.optionsObject(options, 'options', ['key']));
  }

  async check(agentId, usage, options) {
    v.nonEmptyString(agentId, 'agentId');
    const o = v.optionsObject(options, 'options', ['model']);
    const body = { budget: agentId, usage: v.usageObject(v.usage(usage, 'usage')) };
    if (v.optionalString(o.model, 'options.model') !== null) body.model = o.model;
    return this.request('POST', '/v1/check', body);
  }

  async reserve(agentId, usage, options) {
    v.nonEmptyString(agentId, 'agentId');
    const o = v.optionsObject(options, 'options', ['model', 'key', 'ttl_s']);
    const body = { budget: agentId, usage: v.usageObject(v.usage(usage, 'usage')) };
    if (v.optionalString(o.model, 'options.model') !== null) body.model = o.model;
    if (o.ttl_s !== undefined) body.ttl_s = v.wholeNumber(o.ttl_s, 'options.ttl_s', true);
    return this.request('POST', '/v1/reserve', body, o);
  }

  async commit(holdId, usage, options) {
    v.nonEmptyString(holdId, 'holdId');
    const body = { usage: v.usageObject(v.usage(usage, 'usage')) };
    return this.request('POST', `/v1/holds/${encodeSegment(holdId, 'holdId')}/commit`, body, v.optionsObject(options, 'options', ['key']));
  }

  async release(holdId, options) {
    v.nonEmptyString(holdId, 'holdId');
    await this.request('POST', `/v1/holds/${encodeSegment(holdId, 'holdId')}/release`, undefined, v.optionsObject(options, 'options', ['key']));
  }

  async getHold(holdId) {
    v.nonEmptyString(holdId, 'holdId');
    return this.request('GET', `/v1/holds/${encodeSegment(holdId, 'holdId')}`);
  }

  async charge(agentId, usage, options) {
    v.nonEmptyString(agentId, 'agentId');
    const o = v.optionsObject(options, 'options', ['model', 'key']);
    const body = { budget: agentId, usage: v.usageObject(v.usage(usage, 'usage')) };
    if (v.optionalString(o.model, 'options.model') !== null) body.model = o.model;
    return this.request('POST', '/v1/charge', body, o);
  }

  // The permission checker: {allowed, reason}, as Store#checkPermission.
  async checkPermission(agentId, operation, context) {
    v.nonEmptyString(agentId, 'agentId');
    v.nonEmptyString(operation, 'operation');
    const c = v.contextObject(context, 'context');
    const body = { budget: agentId, operation };
    if (c.model !== undefined && c.model !== null) body.model = v.nonEmptyString(c.model, 'context.model');
    if (c.estimatedTokens !== undefined && c.estimatedTokens !== null) {
      body.estimated_tokens = v.wholeNumber(c.estimatedTokens, 'context.estimatedTokens');
    }
    if (c.usage !== undefined && c.usage !== null) body.usage = v.usageObject(v.usage(c.usage, 'context.usage'));
    let d;
    try {
      d = await this.request('POST', '/v1/permissions/check', body);
    } catch (e) {
      if (e.notFound) return { allowed: false, reason: `Agent not found: no budget '${agentId}'` };
      throw e;
    }
    if (d.allowed) return { allowed: true, reason: null };
    return { allowed: false, reason: d.limit ? `Budget exceeded: ${d.reason}` : d.reason };
  }

  // query: {budget, op, since, until, after, limit}; resolves to {events, next_after}.
  async events(query) {
    const q = v.optionsObject(query, 'query', ['budget', 'op', 'since', 'until', 'after', 'limit']);
    const params = new URLSearchParams();
    for (const k of ['budget', 'op', 'since', 'until', 'after', 'limit']) {
      if (q[k] !== undefined && q[k] !== null) params.set(k, String(q[k]));
    }
    const s = params.toString();
    return this.request('GET', `/v1/events${s ? `?${s}` : ''}`);
  }

  async setRole(name, spec) {
    v.nonEmptyString(name, 'name');
    return this.request('PUT', `/v1/roles/${encodeSegment(name, 'name')}`, v.optionsObject(spec, 'spec', v.ROLE_KEYS));
  }

  // {scope, role: 'agent' | 'admin', label, expires_s}: resolves to the token with its secret
  // (shown this once).
  async createToken(spec) {
    return this.request('POST', '/v1/tokens', v.optionsObject(spec, 'spec', ['scope', 'role', 'label', 'expires_s']));
  }

  async revokeToken(id) {
    v.nonEmptyString(id, 'id');
    return this.request('DELETE', `/v1/tokens/${encodeSegment(id, 'id')}`);
  }
}

module.exports = { Client };
