'use strict';
// validate.js — argument checks shared by the local store and the daemon client. Wrong types
// throw TypeError, values out of range RangeError, each naming the argument and the rule (as
// the original budget-tracker.js validated "type, range, non-empty").

const NUSD_MAX = 9223372036854775807n; // INT64_MAX nano-USD
const USD_MAX = '9223372036.854775807';
const USAGE_KEYS = ['input', 'output', 'cache_write_5m', 'cache_write_1h', 'cache_read'];
// the fields of setBudget's and setRole's spec (and of the daemon's PUT bodies)
const SET_BUDGET_KEYS = ['role', 'model', 'limits', 'unset', 'replace_limits', 'no_role_defaults', 'key'];
const ROLE_KEYS = ['limits', 'allow_tools', 'deny_tools', 'allow_models', 'deny_models', 'admin'];

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

function typeError(name, rule, v) {
  const e = new TypeError(`${name}: must be ${rule}, got ${describe(v)}`);
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

function rangeError(name, rule, v) {
  const e = new RangeError(`${name}: must be ${rule}, got ${describe(v)}`);
  e.code = 'ERR_OUT_OF_RANGE';
  return e;
}

function nonEmptyString(v, name) {
  if (typeof v !== 'string') throw typeError(name, 'a non-empty string', v);
  if (v.length === 0) throw rangeError(name, 'a non-empty string', v);
  return v;
}

function optionalString(v, name) {
  if (v === undefined || v === null) return null;
  return nonEmptyString(v, name);
}

// A whole number of tokens: 0 <= n <= 2^53 - 1 (min 1 when positive is asked for).
function wholeNumber(v, name, positive) {
  if (typeof v !== 'number') throw typeError(name, 'a number', v);
  if (!Number.isSafeInteger(v) || v < (positive ? 1 : 0)) {
    // 2 ** 53 is whole, but not exact as a number: the rule says where exactness ends
    throw rangeError(name, `a whole number from ${positive ? 1 : 0} to ${Number.MAX_SAFE_INTEGER} (2 ** 53 - 1)`, v);
  }
  return v;
}

// An optional yes-or-no option: true, false, or absent (false). 'no' is not false.
function optionalBoolean(v, name) {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw typeError(name, 'true or false', v);
  return v;
}

// The nano-USD of a number of USD >= 0: its shortest decimal (String(0.1) is "0.1", not the
// binary 0.1000000000000000055…; 2.5e-9 is "0.0000000025"), rounded half up to 9 decimals.
function nusdOfNumber(v) {
  const [mant, exp] = String(v).split('e');
  const [int, frac = ''] = mant.split('.');
  let digits = int + frac;
  let point = int.length + (exp ? Number(exp) : 0); // digits before the decimal point
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  digits = digits.padEnd(point + 10, '0');
  const nano = BigInt(digits.slice(0, point + 9) || '0');
  return digits[point + 9] >= '5' ? nano + 1n : nano;
}

function usdOfNusd(n) {
  const frac = (n % 1000000000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${n / 1000000000n}${frac ? `.${frac}` : ''}`;
}

// An amount of USD: a finite number (rounded to the nano-USD) or an exact decimal string,
// at most INT64_MAX nano-USD. Returns the decimal string that the C library parses exactly.
function usdAmount(v, name, positive) {
  let nano;
  if (typeof v === 'string') {
    if (!/^\d+(\.\d{1,9})?$/.test(v)) throw rangeError(name, 'a decimal amount of USD such as "9.52" (at most 9 decimals)', v);
    const [int, frac = ''] = v.split('.');
    nano = BigInt(int) * 1000000000n + BigInt(frac.padEnd(9, '0'));
  } else if (typeof v !== 'number') {
    throw typeError(name, 'a number of USD (or a decimal string)', v);
  } else if (!Number.isFinite(v) || v < 0) {
    throw rangeError(name, `a number of USD ${positive ? '> 0' : '>= 0'} and <= ${USD_MAX}`, v);
  } else {
    nano = nusdOfNumber(v);
  }
  if (nano > NUSD_MAX) throw rangeError(name, `an amount of USD <= ${USD_MAX}`, v);
  if (positive && nano === 0n) throw rangeError(name, 'at least 0.000000001 USD', v);
  return typeof v === 'string' ? v : usdOfNusd(nano);
}

// An options object whose fields are among `keys`: a misspelt one (limit for limits, modle for
// model) is a TypeError, as it is to agentbudgetd, not a budget without limits or a charge at
// another model's price.
// The permission checker's context: the caller's own object (the original's callers pass what
// their security manager has), so fields other than estimatedTokens, model and usage are ignored.
function contextObject(v, name) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(name, 'an object', v);
  return v;
}

function optionsObject(v, name, keys) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(name, 'an object', v);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw typeError(`${name}.${k}`, `one of ${keys.join(', ')} (unknown field)`, v[k]);
  }
  return v;
}

// usage: a number of tokens (an estimate: 1/4 priced as input, 3/4 as output, as the original)
// or {input, output, cache_write_5m, cache_write_1h, cache_read}. Returns the five counts.
function usage(v, name) {
  if (typeof v === 'number') {
    const n = wholeNumber(v, name);
    const input = Math.floor(n / 4);
    return [input, n - input, 0, 0, 0];
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw typeError(name, 'a number of tokens or an object {input, output, cache_write_5m, cache_write_1h, cache_read}', v);
  }
  for (const k of Object.keys(v)) {
    if (!USAGE_KEYS.includes(k)) throw typeError(`${name}.${k}`, `one of ${USAGE_KEYS.join(', ')} (unknown field)`, v[k]);
  }
  return USAGE_KEYS.map((k) => (v[k] === undefined ? 0 : wholeNumber(v[k], `${name}.${k}`)));
}

function usageObject(counts) {
  const o = {};
  USAGE_KEYS.forEach((k, j) => { if (counts[j]) o[k] = counts[j]; });
  return o;
}

function stringList(v, name) {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw typeError(name, 'an array of strings', v);
  v.forEach((s, j) => { if (typeof s !== 'string') throw typeError(`${name}[${j}]`, 'a string', s); });
  return v;
}

// reset windows: 'all', or some of 'session', 'day' ('daily'), 'month' ('monthly').
const WINDOW_BITS = { session: 1, day: 2, daily: 2, month: 4, monthly: 4 };
function windows(v, name) {
  if (v === 'all') return 7;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw typeError(name, "'all' or a non-empty array of 'session', 'day', 'month'", v);
  let bits = 0;
  for (const w of list) {
    if (!Object.prototype.hasOwnProperty.call(WINDOW_BITS, w)) throw rangeError(name, "'all' or some of 'session', 'day', 'month'", w);
    bits |= WINDOW_BITS[w];
  }
  return bits;
}

module.exports = {
  nonEmptyString, optionalString, wholeNumber, optionalBoolean, usdAmount, optionsObject, contextObject, usage, usageObject,
  stringList, windows, typeError, rangeError, USAGE_KEYS, SET_BUDGET_KEYS, ROLE_KEYS,
};
