// Copying and the `curl` form of a stored request.

/** Copies text; falls back to a hidden textarea where the Clipboard API is not allowed (plain http on an IP). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: try the old way below.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

function shellQuote(text) {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** Headers curl sets itself, or that belong to the original connection. */
const SKIPPED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'accept-encoding']);

/**
 * The stored request as a `curl` command that sends the same bytes and headers to `url`.
 * The body is single-quoted, so it reaches curl byte for byte (newlines, `\/`, unicode).
 */
export function curlCommand({ url, headers, body }) {
  const lines = [`curl -X POST ${shellQuote(url)}`];
  for (const [name, value] of headers) {
    if (!SKIPPED_HEADERS.has(name.toLowerCase())) lines.push(`  -H ${shellQuote(`${name}: ${value}`)}`);
  }
  lines.push(`  --data-binary ${shellQuote(body)}`);
  return lines.join(' \\\n');
}
