import htm from 'htm';
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { copyText } from './copy-text.js';

export const html = htm.bind(h);

/** The verification outcome as a coloured badge; the word is always there, not just the colour. */
export function VerificationBadge({ status, mode }) {
  const icon = status === 'verified' ? '✔' : status === 'failed' ? '✖' : status === 'pending' ? '…' : '?';
  return html`<span class="badge badge-${status}" title=${mode ? `${status} (${mode})` : status}>
    <span aria-hidden="true">${icon}</span> ${status}
  </span>`;
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
