/**
 * A size for people: `512 B`, `1.5 KiB`, `2 MiB` (binary units, one decimal, no trailing `.0`).
 * The one rule for the CLI's messages. Two copies keep it where this module cannot be imported:
 * the inspector page (`ui/format.js`, plain JavaScript served to the browser as is) and the
 * library (`packages/events/src/_body-errors.ts`, which depends on nothing); `format-bytes.test.ts`
 * checks all three agree.
 *
 * @example
 * formatBytes(2 * 1024 * 1024); // '2 MiB'
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${oneDecimal(bytes / 1024)} KiB`;
  return `${oneDecimal(bytes / (1024 * 1024))} MiB`;
}

function oneDecimal(value: number): string {
  return value.toFixed(1).replace(/\.0$/, '');
}
