'use strict';
// budget_tracker_original.js — a plain in-memory JavaScript implementation of the original
// budget-tracker.js API, written from its delivery report (../../shared/seed/), for
// bench_node.js to run beside the agentbudget binding: an object per agent in a Map, $3/$15
// per million input/output tokens, session tokens, a daily cost that resets at midnight UTC,
// checks estimating 1/4 input and 3/4 output (the report's conservative 1:3 ratio), and the
// operations_blocked counter. It is the baseline, not a product: floating-point dollars and
// state that dies with the process are exactly what agentbudget replaces.

const INPUT_USD_PER_MTOK = 3;
const OUTPUT_USD_PER_MTOK = 15;
const DAY_MS = 86400000;

function cost(inputTokens, outputTokens) {
  return (inputTokens / 1e6) * INPUT_USD_PER_MTOK + (outputTokens / 1e6) * OUTPUT_USD_PER_MTOK;
}

function requireString(v, name) {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

function requireCount(v, name) {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a number >= 0`);
}

// the automatic reset at midnight UTC: a budget whose last reset was before today's start
function rollDay(b, now) {
  if (now - (now % DAY_MS) > b.last_reset) {
    b.daily_cost_used = 0;
    b.last_reset = now;
  }
}

// The status: the stored fields plus the session and daily summaries. Two ways to write it:
// field by field (the default: the faster, so the stricter baseline), or as idiomatic code
// often does, {...budget, session, daily}, which V8 (Node.js 20) runs far slower.
function statusByFields(b) {
  return {
    agent_id: b.agent_id,
    role: b.role,
    session_tokens_used: b.session_tokens_used,
    session_token_limit: b.session_token_limit,
    daily_cost_used: b.daily_cost_used,
    daily_cost_limit: b.daily_cost_limit,
    last_reset: b.last_reset,
    operations_blocked: b.operations_blocked,
    created_at: b.created_at,
    session: {
      tokens_used: b.session_tokens_used,
      tokens_limit: b.session_token_limit,
      tokens_remaining: Math.max(0, b.session_token_limit - b.session_tokens_used),
    },
    daily: {
      cost_used: b.daily_cost_used,
      cost_limit: b.daily_cost_limit,
      cost_remaining: Math.max(0, b.daily_cost_limit - b.daily_cost_used),
    },
  };
}

function statusBySpread(b) {
  return {
    ...b,
    session: {
      tokens_used: b.session_tokens_used,
      tokens_limit: b.session_token_limit,
      tokens_remaining: Math.max(0, b.session_token_limit - b.session_tokens_used),
    },
    daily: {
      cost_used: b.daily_cost_used,
      cost_limit: b.daily_cost_limit,
      cost_remaining: Math.max(0, b.daily_cost_limit - b.daily_cost_used),
    },
  };
}

// A tracker with its own state; options.spreadStatus picks the second way of building status.
function createTracker(options = {}) {
  const budgets = new Map();
  const toStatus = options.spreadStatus ? statusBySpread : statusByFields;

  function getBudgetStatus(agentId) {
    requireString(agentId, 'agentId');
    const b = budgets.get(agentId);
    if (!b) return null;
    rollDay(b, Date.now());
    return toStatus(b);
  }

  function initializeBudget(agentId, role, sessionTokenLimit, dailyCostLimit) {
    requireString(agentId, 'agentId');
    requireString(role, 'role');
    requireCount(sessionTokenLimit, 'sessionTokenLimit');
    requireCount(dailyCostLimit, 'dailyCostLimit');
    const now = Date.now();
    budgets.set(agentId, {
      agent_id: agentId,
      role,
      session_tokens_used: 0,
      session_token_limit: sessionTokenLimit,
      daily_cost_used: 0,
      daily_cost_limit: dailyCostLimit,
      last_reset: now,
      operations_blocked: 0,
      created_at: now,
    });
    return getBudgetStatus(agentId);
  }

  function checkBudget(agentId, estimatedTokens) {
    requireString(agentId, 'agentId');
    requireCount(estimatedTokens, 'estimatedTokens');
    const b = budgets.get(agentId);
    if (!b) return { allowed: false, reason: `No budget initialized for agent ${agentId}` };
    rollDay(b, Date.now());
    if (b.session_tokens_used + estimatedTokens > b.session_token_limit) {
      b.operations_blocked++;
      return {
        allowed: false,
        reason: `Session token limit exceeded: ${b.session_tokens_used + estimatedTokens} > ${b.session_token_limit}`,
      };
    }
    // the conservative 1:3 estimate
    const estimate = cost(estimatedTokens * 0.25, estimatedTokens * 0.75);
    if (b.daily_cost_used + estimate > b.daily_cost_limit) {
      b.operations_blocked++;
      return {
        allowed: false,
        reason: `Daily cost limit exceeded: $${(b.daily_cost_used + estimate).toFixed(4)} > $${b.daily_cost_limit.toFixed(2)}`,
      };
    }
    return { allowed: true, reason: null };
  }

  function deductBudget(agentId, inputTokens, outputTokens) {
    requireString(agentId, 'agentId');
    requireCount(inputTokens, 'inputTokens');
    requireCount(outputTokens, 'outputTokens');
    const b = budgets.get(agentId);
    if (!b) throw new Error(`No budget initialized for agent ${agentId}`);
    rollDay(b, Date.now());
    b.session_tokens_used += inputTokens + outputTokens;
    b.daily_cost_used += cost(inputTokens, outputTokens);
    return getBudgetStatus(agentId);
  }

  function resetSession(agentId) {
    const b = budgets.get(agentId);
    if (!b) throw new Error(`No budget initialized for agent ${agentId}`);
    b.session_tokens_used = 0;
    return getBudgetStatus(agentId);
  }

  function resetDaily(agentId) {
    const b = budgets.get(agentId);
    if (!b) throw new Error(`No budget initialized for agent ${agentId}`);
    b.daily_cost_used = 0;
    b.last_reset = Date.now();
    return getBudgetStatus(agentId);
  }

  return { initializeBudget, checkBudget, deductBudget, getBudgetStatus, resetSession, resetDaily };
}

module.exports = { ...createTracker(), createTracker };
