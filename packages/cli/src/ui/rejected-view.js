import { getJson } from './api.js';
import { CopyButton, ErrorNote, Headers, html, onPlainClick, useFetched } from './common.js';
import { formatBytes, formatRelative, formatTime } from './format.js';

/** Refused requests, newest first, each with its reason. */
export function RejectedList({ list, selectedId, hrefFor, onSelect, onLoadMore, now }) {
  if (list.error) return html`<${ErrorNote} error=${list.error} />`;
  if (list.items.length === 0 && !list.loading) {
    return html`<div class="empty"><h2>No rejected requests</h2><p>Every request that reached the webhook URL was accepted. Requests refused with a 4xx (bad JSON, wrong signature, live mode…) are kept here with the reason.</p></div>`;
  }
  return html`<div class="list-body">
    <div class="row row-head rejection-row" aria-hidden="true">
      <span class="cell">status</span><span class="cell">code</span><span class="cell">reason</span><span class="cell">received</span>
    </div>
    <ul class="rows" aria-label="Rejected requests, newest first">
      ${list.items.map(
        (rejection) => html`<li key=${rejection.id}>
          <a
            class=${`row rejection-row${String(rejection.id) === selectedId ? ' selected' : ''}`}
            href=${hrefFor(rejection.id)}
            data-rejection-id=${rejection.id}
            aria-current=${String(rejection.id) === selectedId ? 'true' : undefined}
            onClick=${onPlainClick(() => onSelect(String(rejection.id)))}
          >
            <span class="cell"><span class="http-status">${rejection.status}</span></span>
            <span class="cell code-name">${rejection.code}</span>
            <span class="cell reason">${rejection.reason}</span>
            <span class="cell time" title=${formatTime(rejection.receivedAt)}>${formatRelative(rejection.receivedAt, now)}</span>
          </a>
        </li>`,
      )}
    </ul>
    ${
      list.nextCursor &&
      html`<div class="load-more"><button type="button" class="button" onClick=${onLoadMore}>Load older rejections</button></div>`
    }
  </div>`;
}

export function RejectionDetail({ id, onClose }) {
  const { data: detail, error } = useFetched(() => getJson(`/api/rejected/${encodeURIComponent(id)}`), [id]);
  if (error) return html`<article class="detail"><${ErrorNote} error=${error} /></article>`;
  if (!detail || String(detail.id) !== String(id))
    return html`<article class="detail"><p class="muted">Loading…</p></article>`;
  return html`<article class="detail" aria-labelledby="rejection-title" data-testid="rejection-detail">
    <header class="detail-head">
      <div>
        <h2 id="rejection-title">${detail.status} ${detail.code}</h2>
        <p class="detail-id">${detail.method} ${detail.path} from ${detail.remoteAddress ?? 'unknown'} · ${formatTime(detail.receivedAt)}${detail.eventId ? html` · <code>${detail.eventId}</code>` : ''}</p>
      </div>
      <button type="button" class="button close" aria-label="Close the detail (Esc)" onClick=${onClose}>✕</button>
    </header>
    <section class="verification verification-failed">
      <h3>Why it was refused</h3>
      <p data-testid="rejection-reason">${detail.reason}</p>
      <p data-testid="rejection-diagnosis"><strong>Likely cause:</strong> ${detail.diagnosis}</p>
    </section>
    <div class="actions"><${CopyButton} label="Copy raw" text=${detail.body} /></div>
    <h3>Headers</h3>
    <${Headers} headers=${detail.headers} />
    <h3>Body (${formatBytes(detail.bodySize)}${detail.bodyEncoding === 'base64' ? ', not UTF-8: base64' : ''})</h3>
    ${
      detail.bodyTruncated &&
      html`<p class="muted" data-testid="rejection-truncated">Only the first 64 KiB are kept: refused requests come from anyone, so they must not fill the disk. SHA-256 of the whole body: <code>${detail.bodySha256}</code></p>`
    }
    <pre class="code raw">${detail.body || '(empty: the body was not read)'}</pre>
  </article>`;
}
