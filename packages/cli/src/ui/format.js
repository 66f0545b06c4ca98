// Formatting for people: amounts in their currency, times relative and absolute.

const minorDigitsCache = new Map();

/** Digits after the decimal point for a currency (THB 2, JPY 0), as Intl knows them. */
function minorDigits(currency) {
  if (!minorDigitsCache.has(currency)) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      digits = 2;
    }
    minorDigitsCache.set(currency, digits);
  }
  return minorDigitsCache.get(currency);
}

/** Omise amounts are in the smallest unit (satang, sen, cents): 129000 THB is ฿1,290.00. */
export function formatAmount(amount, currency) {
  if (typeof amount !== 'number') return '';
  if (!currency) return String(amount);
  const code = currency.toUpperCase();
  const digits = minorDigits(code);
  const value = amount / 10 ** digits;
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: code }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${code}`;
  }
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso ?? '';
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "just now", "5 s ago", "3 min ago", then the date. */
export function formatRelative(iso, now = Date.now()) {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso ?? '';
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return formatTime(iso);
}

// A copy of core/format-bytes.ts (this page is served to the browser as is and cannot import
// TypeScript); core/format-bytes.test.ts checks the two agree.
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${oneDecimal(bytes / 1024)} KiB`;
  return `${oneDecimal(bytes / (1024 * 1024))} MiB`;
}

function oneDecimal(value) {
  return value.toFixed(1).replace(/\.0$/, '');
}

/** A JSON value as one short line, for diffs. */
export function preview(value) {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

// A copy of looksLikeOmiseId in core/event-lookup-fields.ts (this page cannot import
// TypeScript); core/format-bytes.test.ts checks the two agree.
const OMISE_ID = /^[a-z]{3,4}_(test_)?[0-9a-z]+$/;

export function looksLikeOmiseId(text) {
  return OMISE_ID.test(text);
}
