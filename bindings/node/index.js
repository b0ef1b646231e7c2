'use strict';
// agentbudget — hard spending limits for LLM agents, for Node.js. A drop-in replacement for
// budget-tracker.js: require('agentbudget') instead of require('./budget-tracker'), and the
// same six functions now keep their state in a durable store (the embedded SQLite file by
// default; $AGENTBUDGET_STORE names another), with exact money and reservations beside them.
const { Store } = require('./lib/store');
const { Client } = require('./lib/client');

let defaultStore = null;
let defaultOwned = false; // opened here (not a Store the caller gave), so closed here when replaced

// The store the module-level functions use: opened on first use from $AGENTBUDGET_STORE, else
// the default SQLite file ($XDG_STATE_HOME/agentbudget/budget.db or
// ~/.local/state/agentbudget/budget.db).
function store() {
  if (defaultStore === null) {
    defaultStore = new Store();
    defaultOwned = true;
  }
  return defaultStore;
}

// Opens a store by URL ("memory:", "sqlite:PATH", "postgres://…"; nothing: the default).
function open(storeUrl) {
  return new Store(storeUrl);
}

// Makes the module-level functions use another store (a Store, or a URL to open). Returns it.
// The one it replaces is closed if it was opened here (from a URL, or the default on first use);
// a Store the caller made is the caller's to close.
function setDefaultStore(s) {
  const owned = !(s instanceof Store);
  const next = owned ? new Store(s) : s;
  if (defaultStore !== null && defaultStore !== next && defaultOwned) defaultStore.close();
  defaultStore = next;
  defaultOwned = owned;
  return next;
}

// Named functions, listed by name below: Node.js finds a CommonJS module's named exports for
// `import { checkBudget } from 'agentbudget'` only in an object of identifiers.
// the original API
function initializeBudget(agentId, role, sessionTokenLimit, dailyCostLimit, options) {
  return store().initializeBudget(agentId, role, sessionTokenLimit, dailyCostLimit, options);
}
function checkBudget(agentId, estimatedTokens) {
  return store().checkBudget(agentId, estimatedTokens);
}
function deductBudget(agentId, inputTokens, outputTokens, options) {
  return store().deductBudget(agentId, inputTokens, outputTokens, options);
}
function getBudgetStatus(agentId) {
  return store().getBudgetStatus(agentId);
}
function resetSession(agentId, options) {
  return store().resetSession(agentId, options);
}
function resetDaily(agentId, options) {
  return store().resetDaily(agentId, options);
}
// the permission checker, completed
function checkPermission(agentId, operation, context) {
  try {
    return store().checkPermission(agentId, operation, context);
  } catch (e) {
    return Promise.reject(e); // e.g. the default store cannot be opened
  }
}
function checkPermissionSync(agentId, operation, context) {
  return store().checkPermissionSync(agentId, operation, context);
}
// reservations and the rest
function reserve(agentId, usage, options) {
  return store().reserve(agentId, usage, options);
}
function commit(holdId, usage, options) {
  return store().commit(holdId, usage, options);
}
function release(holdId, options) {
  return store().release(holdId, options);
}
function charge(agentId, usage, options) {
  return store().charge(agentId, usage, options);
}
function check(agentId, usage, options) {
  return store().check(agentId, usage, options);
}
function reset(agentId, windows, options) {
  return store().reset(agentId, windows, options);
}
function setBudget(path, spec) {
  return store().setBudget(path, spec);
}
function setRole(name, spec) {
  return store().setRole(name, spec);
}
const defaultStoreOf = store;
const { version } = require('./lib/native').native;

module.exports = {
  initializeBudget,
  checkBudget,
  deductBudget,
  getBudgetStatus,
  resetSession,
  resetDaily,
  checkPermission,
  checkPermissionSync,
  reserve,
  commit,
  release,
  charge,
  check,
  reset,
  setBudget,
  setRole,
  open,
  setDefaultStore,
  defaultStore: defaultStoreOf,
  Store,
  Client,
  version,
};
