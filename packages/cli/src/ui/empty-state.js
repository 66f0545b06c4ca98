import { CopyButton, html } from './common.js';

/** What a new user sees before the first event: exactly what to do next. */
export function EmptyState({ status }) {
  const local = status?.webhookUrl ?? 'http://127.0.0.1:3000/omise/webhook';
  const path = new URL(local).pathname;
  // The server gives the full URL to paste (`https://…/omise/webhook`), tunnel or --public-url.
  const publicUrl = status?.publicUrl ?? null;
  return html`<div class="empty" data-testid="empty-state">
    <h2>Waiting for the first webhook</h2>
    <ol class="steps">
      <li>
        <strong>Paste this URL into the Omise dashboard</strong> (test mode → Webhooks):
        ${
          publicUrl
            ? html`<div class="url-line"><code data-testid="dashboard-url">${publicUrl}</code> <${CopyButton} label="Copy" text=${publicUrl} /></div>`
            : html`<div class="url-line"><code data-testid="dashboard-url">${`https://<your-tunnel>${path}`}</code></div>
                <p class="muted">Omise delivers only to public HTTPS URLs: expose port ${new URL(local).port || '80'} with a tunnel (for example <code>ngrok http ${new URL(local).port || '80'}</code>). This machine receives at <code>${local}</code>.</p>`
        }
      </li>
      <li>
        <strong>Verification:</strong>
        ${
          status?.verificationConfigured
            ? html` <span data-testid="verification-state">configured (${status.verificationMode}${status.secretKeyMasked ? `, key ${status.secretKeyMasked}` : ''})</span>. Forged requests are refused and listed under Rejected.`
            : html` <span data-testid="verification-state">not configured</span>: events are accepted and marked unverified. Copy the webhook secret from the dashboard into <code>.env</code> as <code>OMISE_WEBHOOK_SECRET=…</code> and restart.`
        }
      </li>
      <li>
        <strong>Or send a simulated event now:</strong>
        <div class="url-line"><code>npx omise-webhook trigger charge.create</code> <${CopyButton} label="Copy" text="npx omise-webhook trigger charge.create" /></div>
      </li>
    </ol>
    <p class="muted">New events appear here as they arrive; there is no need to reload.</p>
  </div>`;
}
