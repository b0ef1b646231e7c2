// Type declarations for agentbudget (CommonJS): hard spending limits for LLM agents.
// Money: *_nusd fields are exact nano-USD (1 USD = 10^9 nUSD) as decimal strings; the plain
// fields (daily_cost_used, cost, …) are the same amounts in USD as JS numbers, as the original
// budget-tracker.js had them.

/** A budget's state (getBudgetStatus, deductBudget, initializeBudget, reset…). */
export interface BudgetStatus {
  agent_id: string;
  role: string;
  session_tokens_used: number;
  /** null if the budget has no tokens/session limit */
  session_token_limit: number | null;
  daily_cost_used: number;
  daily_cost_used_nusd: string;
  /** null if the budget has no usd/day limit */
  daily_cost_limit: number | null;
  daily_cost_limit_nusd: string | null;
  /** ms since the epoch: the last explicit reset or rollover of the day */
  last_reset: number;
  operations_blocked: number;
  /** ms since the epoch */
  created_at: number;
  /** the default model used to price token-only checks, or null (claude-sonnet-4-5 prices) */
  model: string | null;
  session: {
    tokens_used: number;
    tokens_limit: number | null;
    /** limit - used - held (0 if over); null without a limit */
    tokens_remaining: number | null;
    started_at: number;
  };
  daily: {
    cost_used: number;
    cost_used_nusd: string;
    cost_limit: number | null;
    cost_limit_nusd: string | null;
    cost_remaining: number | null;
    cost_remaining_nusd: string | null;
    /** ms since the epoch: 00:00 UTC of the current day */
    day_start: number;
  };
  /** open reservations, counted against every limit */
  holds: { open: number; tokens: number; cost: number; cost_nusd: string };
  /** Store.setBudget only (not the Client's): true if the budget was created, false if updated */
  created?: boolean;
}

/** checkBudget and checkPermission: the original's shape. */
export interface CheckResult {
  allowed: boolean;
  /** null when allowed */
  reason: string | null;
}

/** The limit that decided a denial (or, for charge/commit, the one now exceeded). */
export interface DecidingLimit {
  budget: string;
  metric: 'tokens' | 'usd' | 'requests';
  window: 'session' | 'day' | 'month' | 'total';
  /** in the metric's unit: USD as a number for usd (with *_nusd beside), else a count */
  amount: number;
  used: number;
  requested: number;
  remaining: number;
  amount_nusd?: string;
  used_nusd?: string;
  requested_nusd?: string;
  remaining_nusd?: string;
}

/** reserve, commit, charge, check: the same fields as agentbudgetd's JSON answers. */
export interface Decision {
  allowed: boolean;
  reason: string | null;
  /** charge/commit: a limit is now exceeded (they are never refused) */
  over: boolean;
  cost: number;
  cost_nusd: string;
  tokens: number;
  /** reserve: the hold made (null if denied) */
  hold_id: string | null;
  limit: DecidingLimit | null;
  /** answered from an idempotency key */
  replayed: boolean;
}

/** Tokens of one request; missing fields are 0. */
export interface Usage {
  input?: number;
  output?: number;
  cache_write_5m?: number;
  cache_write_1h?: number;
  cache_read?: number;
}

/** A usage, or a token estimate (1/4 priced as input, 3/4 as output, as the original). */
export type UsageOrTokens = Usage | number;

export interface KeyOptions {
  /** idempotency key: a retry with the same key returns the first answer and changes nothing */
  key?: string;
}

export interface ModelOptions extends KeyOptions {
  /** the model that prices the usage (default: the budget's model, else claude-sonnet-4-5) */
  model?: string;
}

export interface ReserveOptions extends ModelOptions {
  /** seconds until an uncommitted hold expires (default 600) */
  ttl_s?: number;
}

/** The original permission checker's context; other fields are ignored. */
export interface PermissionContext {
  /** default 1000, as the original (context.estimatedTokens || 1000) */
  estimatedTokens?: number;
  model?: string;
  /** an exact estimate instead of estimatedTokens */
  usage?: UsageOrTokens;
  /** the caller's own fields (the original's callers pass their security context) */
  [other: string]: unknown;
}

export type ResetWindow = 'session' | 'day' | 'daily' | 'month' | 'monthly';
export type ResetWindows = 'all' | ResetWindow | ResetWindow[];

export interface BudgetSpec extends KeyOptions {
  role?: string;
  model?: string;
  /** limits to set: "usd/day=10", "tokens/session=100000", "requests/month=500", … */
  limits?: string[];
  /** limits to remove: "usd/month", … */
  unset?: string[];
  replace_limits?: boolean;
  no_role_defaults?: boolean;
}

export interface RoleSpec {
  /** default limits of new budgets of this role */
  limits?: string[];
  /** fnmatch(3) globs; empty allows every tool; deny wins */
  allow_tools?: string[];
  deny_tools?: string[];
  allow_models?: string[];
  deny_models?: string[];
  admin?: boolean;
}

/** An error from the library: .code is "AB_" + the error's name (AB_ENOTFOUND, AB_ESTATE, …). */
export interface AgentBudgetError extends Error {
  code: string;
}

/** One handle on a store ("memory:", "sqlite:PATH", "postgres://…"). Calls are synchronous. */
export class Store {
  constructor(storeUrl?: string | null);
  readonly url: string | null;
  close(): void;

  initializeBudget(agentId: string, role: string, sessionTokenLimit: number,
    dailyCostLimit: number | string, options?: ModelOptions): BudgetStatus;
  checkBudget(agentId: string, estimatedTokens: number): CheckResult;
  deductBudget(agentId: string, inputTokens: number, outputTokens: number,
    options?: ModelOptions): BudgetStatus;
  getBudgetStatus(agentId: string): BudgetStatus | null;
  resetSession(agentId: string, options?: KeyOptions): BudgetStatus;
  resetDaily(agentId: string, options?: KeyOptions): BudgetStatus;

  checkPermission(agentId: string, operation: string, context?: PermissionContext): Promise<CheckResult>;
  checkPermissionSync(agentId: string, operation: string, context?: PermissionContext): CheckResult;

  reserve(agentId: string, usage: UsageOrTokens, options?: ReserveOptions): Decision;
  commit(holdId: string, usage: UsageOrTokens, options?: KeyOptions): Decision;
  release(holdId: string, options?: KeyOptions): void;
  charge(agentId: string, usage: UsageOrTokens, options?: ModelOptions): Decision;
  check(agentId: string, usage: UsageOrTokens, options?: { model?: string }): Decision;
  reset(agentId: string, windows: ResetWindows, options?: KeyOptions): BudgetStatus;
  setBudget(path: string, spec?: BudgetSpec): BudgetStatus;
  setRole(name: string, spec?: RoleSpec): void;
}

export interface ClientOptions {
  /** default $AGENTBUDGET_URL, else http://127.0.0.1:8700 */
  url?: string;
  /** bearer token (abt_…); default $AGENTBUDGET_TOKEN */
  token?: string | null;
  /** per request; default 30000 */
  timeoutMs?: number;
  /** default the global fetch */
  fetch?: typeof fetch;
}

/** An HTTP error from agentbudgetd: .status (0: no answer), .code ("invalid", "not_found", …). */
export interface ClientError extends Error {
  status: number;
  code: string;
  field?: string;
  retryAfter?: number | null;
}

/** agentbudgetd's HTTP API (docs/http-api.md), asynchronous. Statuses are the daemon's JSON
 * (a superset of BudgetStatus: it also lists the limits), with *_nusd as strings. */
export class Client {
  constructor(options?: ClientOptions);
  readonly url: string;
  request(method: string, path: string, body?: unknown, options?: KeyOptions): Promise<any>;
  health(): Promise<{ status: string; schema_version: number; version: string }>;

  initializeBudget(agentId: string, role: string, sessionTokenLimit: number,
    dailyCostLimit: number | string, options?: ModelOptions): Promise<BudgetStatus>;
  checkBudget(agentId: string, estimatedTokens: number): Promise<CheckResult>;
  deductBudget(agentId: string, inputTokens: number, outputTokens: number,
    options?: ModelOptions): Promise<BudgetStatus>;
  getBudgetStatus(agentId: string): Promise<BudgetStatus | null>;
  resetSession(agentId: string, options?: KeyOptions): Promise<BudgetStatus>;
  resetDaily(agentId: string, options?: KeyOptions): Promise<BudgetStatus>;
  checkPermission(agentId: string, operation: string, context?: PermissionContext): Promise<CheckResult>;

  getBudget(path: string): Promise<BudgetStatus>;
  setBudget(path: string, spec?: BudgetSpec): Promise<BudgetStatus>;
  deleteBudget(path: string, options?: KeyOptions): Promise<unknown>;
  listBudgets(prefix?: string): Promise<BudgetStatus[]>;
  reset(agentId: string, windows: ResetWindows, options?: KeyOptions): Promise<BudgetStatus>;
  check(agentId: string, usage: UsageOrTokens, options?: { model?: string }): Promise<Decision>;
  reserve(agentId: string, usage: UsageOrTokens, options?: ReserveOptions): Promise<Decision>;
  commit(holdId: string, usage: UsageOrTokens, options?: KeyOptions): Promise<Decision>;
  release(holdId: string, options?: KeyOptions): Promise<void>;
  getHold(holdId: string): Promise<any>;
  charge(agentId: string, usage: UsageOrTokens, options?: ModelOptions): Promise<Decision>;
  events(query?: { budget?: string; op?: string; since?: number; until?: number; after?: number; limit?: number }):
    Promise<{ events: any[]; next_after: number | null }>;
  setRole(name: string, spec?: RoleSpec): Promise<any>;
  createToken(spec: { scope: string; role: 'agent' | 'admin'; label?: string; expires_s?: number }):
    Promise<{ secret: string; id: string; scope: string; role: string }>;
  revokeToken(id: string): Promise<unknown>;
}

// ---- module-level: the original API on the default store ($AGENTBUDGET_STORE, else the
// embedded SQLite file), opened on first use ----

export function initializeBudget(agentId: string, role: string, sessionTokenLimit: number,
  dailyCostLimit: number | string, options?: ModelOptions): BudgetStatus;
export function checkBudget(agentId: string, estimatedTokens: number): CheckResult;
export function deductBudget(agentId: string, inputTokens: number, outputTokens: number,
  options?: ModelOptions): BudgetStatus;
export function getBudgetStatus(agentId: string): BudgetStatus | null;
export function resetSession(agentId: string, options?: KeyOptions): BudgetStatus;
export function resetDaily(agentId: string, options?: KeyOptions): BudgetStatus;
export function checkPermission(agentId: string, operation: string, context?: PermissionContext): Promise<CheckResult>;
export function checkPermissionSync(agentId: string, operation: string, context?: PermissionContext): CheckResult;
export function reserve(agentId: string, usage: UsageOrTokens, options?: ReserveOptions): Decision;
export function commit(holdId: string, usage: UsageOrTokens, options?: KeyOptions): Decision;
export function release(holdId: string, options?: KeyOptions): void;
export function charge(agentId: string, usage: UsageOrTokens, options?: ModelOptions): Decision;
export function check(agentId: string, usage: UsageOrTokens, options?: { model?: string }): Decision;
export function reset(agentId: string, windows: ResetWindows, options?: KeyOptions): BudgetStatus;
export function setBudget(path: string, spec?: BudgetSpec): BudgetStatus;
export function setRole(name: string, spec?: RoleSpec): void;

/** Opens a store by URL (nothing: $AGENTBUDGET_STORE, else the embedded SQLite file). */
export function open(storeUrl?: string | null): Store;
/** Makes the module-level functions use this store (or a store opened from this URL). */
export function setDefaultStore(store?: Store | string | null): Store;
/** The store the module-level functions use (opened on first call). */
export function defaultStore(): Store;
/** libagentbudget's version */
export const version: string;
