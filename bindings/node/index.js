'use strict';
// agentbudget — hard spending limits for LLM agents, for Node.js. A drop-in replacement for
// budget-tracker.js: require('agentbudget') instead of require('./budget-tracker'), and the
// same six functions now keep their state in a durable store (the embedded SQLite file by
// default; $AGENTBUDGET_STORE names another), with exact money and reservations beside them.
const { Store } = require('./lib/store');
const { Client } = require('./lib/client');

let defaultStore = null;

// The store the module-level functions use: opened on first use from $AGENTBUDGET_STORE, else
// the default SQLite file ($XDG_STATE_HOME/agentbudget/budget.db or
// ~/.local/state/agentbudget/budget.db).
function store() {
  if (defaultStore === null) defaultStore = new Store();
  return defaultStore;
}

// Opens a store by URL ("memory:", "sqlite:PATH", "postgres://…"; nothing: the default).
function open(storeUrl) {
  return new Store(storeUrl);
}

// Makes the module-level functions use another store (a Store, or a URL to open). Returns it.
function setDefaultStore(s) {
  const next = s instanceof Store ? s : new Store(s);
  defaultStore = next;
  return next;
}

module.exports = {
  // the original API
  initializeBudget: (agentId, role, sessionTokenLimit, dailyCostLimit, options) =>
    store().initializeBudget(agentId, role, sessionTokenLimit, dailyCostLimit, options),
  checkBudget: (agentId, estimatedTokens) => store().checkBudget(agentId, estimatedTokens),
  deductBudget: (agentId, inputTokens, outputTokens, options) =>
    store().deductBudget(agentId, inputTokens, outputTokens, options),
  getBudgetStatus: (agentId) => store().getBudgetStatus(agentId),
  resetSession: (agentId, options) => store().resetSession(agentId, options),
  resetDaily: (agentId, options) => store().resetDaily(agentId, options),
  // the permission checker, completed
  checkPermission: (agentId, operation, context) => {
    try {
      return store().checkPermission(agentId, operation, context);
    } catch (e) {
      return Promise.reject(e); // e.g. the default store cannot be opened
    }
  },
  checkPermissionSync: (agentId, operation, context) => store().checkPermissionSync(agentId, operation, context),
  // reservations and the rest
  reserve: (agentId, usage, options) => store().reserve(agentId, usage, options),
  commit: (holdId, usage, options) => store().commit(holdId, usage, options),
  release: (holdId, options) => store().release(holdId, options),
  charge: (agentId, usage, options) => store().charge(agentId, usage, options),
  check: (agentId, usage, options) => store().check(agentId, usage, options),
  reset: (agentId, windows, options) => store().reset(agentId, windows, options),
  setBudget: (path, spec) => store().setBudget(path, spec),
  setRole: (name, spec) => store().setRole(name, spec),
  open,
  setDefaultStore,
  defaultStore: store,
  Store,
  Client,
  version: require('./lib/native').native.version,
};
