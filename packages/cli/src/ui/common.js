import htm from 'htm';
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { copyText } from './copy-text.js';

export const html = htm.bind(h);

/** The verification outcome as a coloured badge; the word is always there, not just the colour. */
export function VerificationBadge({ status, mode }) {
  const icon = status === 'verified' ? '✔' : status === 'failed' ? '✖' : status === 'pending' ? '…' : '?';
  return html`<span class="badge badge-${status}" title=${mode ? `${status} (${mode})` : status}>
    <span aria-hidden="true">${icon}</span> ${status}
  </span>`;
}

/**
 * An Omise id, never broken across lines: where it does not fit it ends in "…" and the title
 * holds it whole (copying the text still copies all of it).
 */
export function Id({ value, testId }) {
  return html`<code class="id" title=${value} data-testid=${testId}>${value}</code>`;
}

export function StatusChip({ status }) {
  if (!status) return null;
  return html`<span class="status status-${status.replace(/[^a-z_]/g, '')}">${status}</span>`;
}

/** A button that copies text and says so for a moment. */
export function CopyButton({ label, text, testId }) {
  const [state, setState] = useState('idle');
  const copy = async () => {
    const ok = await copyText(typeof text === 'function' ? text() : text);
    setState(ok ? 'copied' : 'failed');
    setTimeout(() => setState('idle'), 1500);
  };
  return html`<button type="button" class="button" data-testid=${testId} onClick=${copy}>
    ${state === 'copied' ? 'Copied ✔' : state === 'failed' ? 'Copy failed' : label}
  </button>`;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error-note" role="alert">${error.message ?? String(error)}</p>`;
}

/**
 * Runs `load()` (a promise) whenever `deps` change and returns `{ data, error, loading }`.
 * While reloading, the previous data and error stay; an answer that arrives after `deps`
 * changed again (or after unmount) is ignored. A failure clears `data`.
 */
export function useFetched(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  useEffect(() => {
    let stale = false;
    setState((previous) => (previous.loading ? previous : { ...previous, loading: true }));
    load()
      .then((data) => !stale && setState({ data, error: null, loading: false }))
      .catch((error) => !stale && setState({ data: null, error, loading: false }));
    return () => {
      stale = true;
    };
  }, deps);
  return state;
}

/** An onClick for a link: a plain left click calls `fn` instead of following it; modified or middle clicks keep the browser's behaviour. */
export function onPlainClick(fn) {
  return (e) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    fn(e);
  };
}

/** Request headers exactly as received, in order, numbered. */
export function Headers({ headers }) {
  return html`<table class="headers-table">
    <thead><tr><th scope="col">#</th><th scope="col">name</th><th scope="col">value</th></tr></thead>
    <tbody>
      ${headers.map(
        ([name, value], index) => html`<tr key=${index}>
          <td>${index + 1}</td><th scope="row"><code>${name}</code></th><td><code>${value}</code></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
