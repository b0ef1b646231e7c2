'use strict';
// store.js — Store: one handle on an agentbudget store (memory:, sqlite:PATH, postgres://…) with
// the original budget-tracker.js API (synchronous, as it was) and the library's reservations.
const { native, f64, i64, slot: S } = require('./native');
const v = require('./validate');

const SAFE = Number.MAX_SAFE_INTEGER;

// nano-USD in slot k: the exact decimal string (strings, not numbers, because nano-USD past
// 2^53, about $9 million, would not be exact in a JS number; JSON.stringify keeps them)
function nusd(k) {
  const x = f64[k];
  return x <= SAFE && x >= -SAFE ? String(x) : String(i64[k]);
}

// the same in USD as a JS number, as the original had it: 480000000 / 1e9 is the double
// nearest 0.48 (the division of two exact integers is correctly rounded), so it prints 0.48
function usd(k) {
  return f64[k] / 1e9;
}

function limitOrNull(k) {
  return f64[k] < 0 ? null : f64[k];
}

// Builds the status object from what the addon wrote into the scratch arrays; `r` is the role,
// or [role, model]. Field names and order follow the original's schema, then the additions.
function status(agentId, r) {
  let role = r;
  let model = null;
  if (typeof r !== 'string') {
    role = r[0];
    model = r[1];
  }
  const hasTokenLimit = f64[S.SESSION_TOKENS_LIMIT] >= 0;
  const hasCostLimit = f64[S.DAILY_COST_LIMIT] >= 0;
  const costLimit = hasCostLimit ? usd(S.DAILY_COST_LIMIT) : null;
  const costLimitNusd = hasCostLimit ? nusd(S.DAILY_COST_LIMIT) : null;
  const costUsed = usd(S.DAILY_COST_USED);
  const costUsedNusd = nusd(S.DAILY_COST_USED);
  const tokensUsed = f64[S.SESSION_TOKENS_USED];
  const tokenLimit = hasTokenLimit ? f64[S.SESSION_TOKENS_LIMIT] : null;
  return {
    agent_id: agentId,
    role,
    session_tokens_used: tokensUsed,
    session_token_limit: tokenLimit,
    daily_cost_used: costUsed,
    daily_cost_used_nusd: costUsedNusd,
    daily_cost_limit: costLimit,
    daily_cost_limit_nusd: costLimitNusd,
    last_reset: f64[S.LAST_RESET],
    operations_blocked: f64[S.OPERATIONS_BLOCKED],
    created_at: f64[S.CREATED_AT],
    model,
    session: {
      tokens_used: tokensUsed,
      tokens_limit: tokenLimit,
      tokens_remaining: limitOrNull(S.SESSION_TOKENS_REMAINING),
      started_at: f64[S.SESSION_STARTED_AT],
    },
    daily: {
      cost_used: costUsed,
      cost_used_nusd: costUsedNusd,
      cost_limit: costLimit,
      cost_limit_nusd: costLimitNusd,
      cost_remaining: hasCostLimit ? usd(S.DAILY_COST_REMAINING) : null,
      cost_remaining_nusd: hasCostLimit ? nusd(S.DAILY_COST_REMAINING) : null,
      day_start: f64[S.DAY_START],
    },
    holds: {
      open: f64[S.HOLDS_OPEN],
      tokens: f64[S.HOLDS_TOKENS],
      cost: usd(S.HOLDS_COST),
      cost_nusd: nusd(S.HOLDS_COST),
    },
  };
}

// decision slots (src/addon.c: D_…)
const D = { ALLOWED: 0, OVER: 1, COST: 2, TOKENS: 3, REPLAYED: 4, HAS_LIMIT: 5, METRIC: 6,
  WINDOW: 7, LIMIT: 8, USED: 9, REQUESTED: 10, REMAINING: 11 };
const METRICS = ['tokens', 'usd', 'requests'];
const WINDOWS = ['session', 'day', 'month', 'total'];

// Builds the decision object (the same fields as the daemon's JSON) from the scratch arrays;
// `r` is the hold id or null, or [reason, hold_id, budget].
function decision(r) {
  let reason = null;
  let holdId = r;
  let limit = null;
  if (r !== null && typeof r !== 'string') {
    reason = r[0] || null;
    holdId = r[1] || null;
    if (f64[D.HAS_LIMIT]) {
      const metric = METRICS[f64[D.METRIC]];
      limit = { budget: r[2], metric, window: WINDOWS[f64[D.WINDOW]] };
      for (const [name, k] of [['amount', D.LIMIT], ['used', D.USED], ['requested', D.REQUESTED], ['remaining', D.REMAINING]]) {
        if (metric === 'usd') {
          limit[name] = usd(k);
          limit[`${name}_nusd`] = nusd(k);
        } else {
          limit[name] = f64[k];
        }
      }
    }
  }
  return {
    allowed: f64[D.ALLOWED] === 1,
    reason,
    over: f64[D.OVER] === 1,
    cost: usd(D.COST),
    cost_nusd: nusd(D.COST),
    tokens: f64[D.TOKENS],
    hold_id: holdId,
    limit,
    replayed: f64[D.REPLAYED] === 1,
  };
}

function keyOf(o) {
  return v.optionalString(o.key, 'options.key');
}

function modelOf(o) {
  return v.optionalString(o.model, 'options.model');
}

class Store {
  constructor(storeUrl) {
    if (storeUrl !== undefined && storeUrl !== null && typeof storeUrl !== 'string') {
      throw v.typeError('storeUrl', 'a string such as "sqlite:/path/budget.db" or "memory:"', storeUrl);
    }
    if (storeUrl === '') { // not the default: an empty $VAR passed on would quietly pick it
      throw v.rangeError('storeUrl', 'a store URL such as "sqlite:/path/budget.db" (null or nothing: the default)', storeUrl);
    }
    this._h = native.open(storeUrl || null);
    this.url = storeUrl || null;
  }

  close() {
    native.close(this._h);
  }

  // ---- the original budget-tracker.js API ----

  // Creates the budget, or updates its role and its two limits (tokens/session and usd/day);
  // usage already recorded is kept. Returns the status.
  initializeBudget(agentId, role, sessionTokenLimit, dailyCostLimit, options) {
    v.nonEmptyString(agentId, 'agentId');
    v.nonEmptyString(role, 'role');
    v.wholeNumber(sessionTokenLimit, 'sessionTokenLimit', true);
    const usdText = v.usdAmount(dailyCostLimit, 'dailyCostLimit', true);
    const o = v.optionsObject(options, 'options', ['model', 'key']);
    return status(agentId, native.initialize(this._h, agentId, role, sessionTokenLimit, usdText,
      modelOf(o), keyOf(o)));
  }

  // Would an operation of about estimatedTokens tokens (1/4 input, 3/4 output) fit? Read-only;
  // a denial is counted in operations_blocked. {allowed, reason}.
  checkBudget(agentId, estimatedTokens) {
    if (typeof agentId !== 'string' || agentId.length === 0) v.nonEmptyString(agentId, 'agentId');
    if (typeof estimatedTokens !== 'number' || !Number.isSafeInteger(estimatedTokens) || estimatedTokens < 0) {
      v.wholeNumber(estimatedTokens, 'estimatedTokens');
    }
    const r = native.check(this._h, agentId, estimatedTokens);
    return r === true ? { allowed: true, reason: null } : { allowed: false, reason: r };
  }

  // Records what an operation used (never refused). Returns the status after it.
  deductBudget(agentId, inputTokens, outputTokens, options) {
    if (typeof agentId !== 'string' || agentId.length === 0) v.nonEmptyString(agentId, 'agentId');
    if (typeof inputTokens !== 'number' || !Number.isSafeInteger(inputTokens) || inputTokens < 0) {
      v.wholeNumber(inputTokens, 'inputTokens');
    }
    if (typeof outputTokens !== 'number' || !Number.isSafeInteger(outputTokens) || outputTokens < 0) {
      v.wholeNumber(outputTokens, 'outputTokens');
    }
    let model = null;
    let key = null;
    if (options !== undefined) {
      const o = v.optionsObject(options, 'options', ['model', 'key']);
      model = modelOf(o);
      key = keyOf(o);
    }
    return status(agentId, native.deduct(this._h, agentId, inputTokens, outputTokens, model, key));
  }

  // The status, or null if there is no such budget.
  getBudgetStatus(agentId) {
    v.nonEmptyString(agentId, 'agentId');
    const r = native.status(this._h, agentId);
    return r === null ? null : status(agentId, r);
  }

  // Starts a new session: the session's tokens go, the day's cost stays. Returns the status.
  resetSession(agentId, options) {
    return this.reset(agentId, ['session'], options);
  }

  // Clears the day's cost (the day also rolls over by itself at 00:00 UTC). Returns the status.
  resetDaily(agentId, options) {
    return this.reset(agentId, ['day'], options);
  }

  // ---- beside them ----

  // Zeroes the chosen windows ('all', or some of 'session', 'day', 'month'). Returns the status.
  reset(agentId, windows, options) {
    v.nonEmptyString(agentId, 'agentId');
    const bits = v.windows(windows, 'windows');
    const o = v.optionsObject(options, 'options', ['key']);
    return status(agentId, native.reset(this._h, agentId, bits, keyOf(o)));
  }

  // Read-only check of an exact usage (or a token estimate) at a model: the full decision.
  check(agentId, usage, options) {
    v.nonEmptyString(agentId, 'agentId');
    const u = v.usage(usage, 'usage');
    const o = v.optionsObject(options, 'options', ['model']);
    return decision(native.checkUsage(this._h, agentId, modelOf(o), u[0], u[1], u[2], u[3], u[4]));
  }

  // Holds the worst-case cost of `usage` against every limit at once (atomic across processes).
  // Allowed: decision.hold_id names the hold; commit() or release() it (it expires after
  // options.ttl_s seconds, default 600).
  reserve(agentId, usage, options) {
    v.nonEmptyString(agentId, 'agentId');
    const u = v.usage(usage, 'usage');
    const o = v.optionsObject(options, 'options', ['model', 'key', 'ttl_s']);
    const ttl = o.ttl_s === undefined ? 0 : v.wholeNumber(o.ttl_s, 'options.ttl_s', true);
    return decision(native.reserve(this._h, agentId, modelOf(o), u[0], u[1], u[2], u[3], u[4], ttl, keyOf(o)));
  }

  // Settles a hold with the actual usage (lower or higher than held); never refused for budget
  // reasons (decision.over says a limit is now exceeded). AB_ESTATE if the hold is not open.
  commit(holdId, usage, options) {
    v.nonEmptyString(holdId, 'holdId');
    const u = v.usage(usage, 'usage');
    const o = v.optionsObject(options, 'options', ['key']);
    return decision(native.commit(this._h, holdId, u[0], u[1], u[2], u[3], u[4], keyOf(o)));
  }

  // Releases a hold without spending.
  release(holdId, options) {
    v.nonEmptyString(holdId, 'holdId');
    const o = v.optionsObject(options, 'options', ['key']);
    native.release(this._h, holdId, keyOf(o));
  }

  // Records usage that already happened: the decision (deductBudget returns the status instead).
  charge(agentId, usage, options) {
    v.nonEmptyString(agentId, 'agentId');
    const u = v.usage(usage, 'usage');
    const o = v.optionsObject(options, 'options', ['model', 'key']);
    return decision(native.charge(this._h, agentId, modelOf(o), u[0], u[1], u[2], u[3], u[4], keyOf(o)));
  }

  // The original permission checker, completed: the agent's role allows `operation` (a tool
  // name, e.g. "Bash(git push)") and the model, AND its budget can pay for
  // context.estimatedTokens (default 1000) or context.usage. {allowed, reason}; asynchronous
  // like the original stub (checkPermissionSync is the same, synchronous).
  checkPermission(agentId, operation, context) {
    try {
      return Promise.resolve(this.checkPermissionSync(agentId, operation, context));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  checkPermissionSync(agentId, operation, context) {
    v.nonEmptyString(agentId, 'agentId');
    v.nonEmptyString(operation, 'operation');
    const c = v.contextObject(context, 'context');
    const tokens = c.estimatedTokens === undefined || c.estimatedTokens === null
      ? 0 : v.wholeNumber(c.estimatedTokens, 'context.estimatedTokens');
    const model = v.optionalString(c.model, 'context.model');
    const hasUsage = c.usage !== undefined && c.usage !== null;
    const u = hasUsage ? v.usage(c.usage, 'context.usage') : [0, 0, 0, 0, 0];
    let d;
    try {
      d = decision(native.permission(this._h, agentId, operation, model, tokens, hasUsage ? 1 : 0,
        u[0], u[1], u[2], u[3], u[4]));
    } catch (e) {
      if (e.code === 'AB_ENOTFOUND') return { allowed: false, reason: `Agent not found: ${e.message.replace(/^agentbudget: /, '')}` };
      throw e;
    }
    if (d.allowed) return { allowed: true, reason: null };
    return { allowed: false, reason: d.limit ? `Budget exceeded: ${d.reason}` : d.reason };
  }

  // Creates or updates a budget: {role, model, limits: ['usd/day=10', …], unset: ['usd/month'],
  // replace_limits, no_role_defaults, key}. Returns the status (status.created says which).
  setBudget(path, spec) {
    v.nonEmptyString(path, 'path');
    const o = v.optionsObject(spec, 'spec', v.SET_BUDGET_KEYS);
    const created = native.setBudget(this._h, path, v.optionalString(o.role, 'spec.role'),
      v.optionalString(o.model, 'spec.model'), v.stringList(o.limits, 'spec.limits'),
      v.optionalBoolean(o.replace_limits, 'spec.replace_limits') ? 1 : 0,
      v.optionalBoolean(o.no_role_defaults, 'spec.no_role_defaults') ? 1 : 0, keyOf(o), v.stringList(o.unset, 'spec.unset'));
    const s = this.getBudgetStatus(path);
    s.created = created;
    return s;
  }

  // Creates or replaces a role: {limits, allow_tools, deny_tools, allow_models, deny_models,
  // admin}. Globs are fnmatch(3) patterns; deny wins.
  setRole(name, spec) {
    v.nonEmptyString(name, 'name');
    const o = v.optionsObject(spec, 'spec', v.ROLE_KEYS);
    native.setRole(this._h, name, v.stringList(o.limits, 'spec.limits'),
      v.stringList(o.allow_tools, 'spec.allow_tools'), v.stringList(o.deny_tools, 'spec.deny_tools'),
      v.stringList(o.allow_models, 'spec.allow_models'), v.stringList(o.deny_models, 'spec.deny_models'),
      v.optionalBoolean(o.admin, 'spec.admin') ? 1 : 0);
  }
}

module.exports = { Store };
