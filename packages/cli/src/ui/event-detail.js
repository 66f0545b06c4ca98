import { useState } from 'preact/hooks';
import { getJson, postJson } from './api.js';
import {
  CopyButton,
  ErrorNote,
  Headers,
  html,
  Id,
  onPlainClick,
  StatusChip,
  useFetched,
  VerificationBadge,
} from './common.js';
import { curlCommand } from './copy-text.js';
import { formatAmount, formatBytes, formatTime, preview } from './format.js';
import { JsonTree } from './json-tree.js';

const TABS = [
  ['overview', 'Overview'],
  ['json', 'JSON'],
  ['raw', 'Raw'],
  ['headers', 'Headers'],
  ['forwarding', 'Forwarding'],
];

function parseBody(detail) {
  if (detail.bodyEncoding !== 'utf8') return undefined;
  try {
    return JSON.parse(detail.body);
  } catch {
    return undefined;
  }
}

function Facts({ detail }) {
  const rows = [
    // Ids get a whole row so they fit unbroken (see the Id component).
    ['Event id', html`<${Id} value=${detail.id} testId="fact-event-id" />`, 'wide'],
    [
      'Object',
      detail.objectId ? html`${detail.objectType} <${Id} value=${detail.objectId} />` : detail.objectType,
      'wide',
    ],
    ['Amount', formatAmount(detail.amount, detail.currency) || '—'],
    ['Created (Omise)', detail.createdAt ? formatTime(detail.createdAt) : '—'],
    ['Received', `${formatTime(detail.receivedAt)} (${detail.receivedAt})`],
    [
      'Deliveries',
      detail.deliveryCount > 1
        ? `${detail.deliveryCount} — last ${formatTime(detail.lastReceivedAt)}${detail.differingDeliveries > 0 ? ` (${detail.differingDeliveries} with another body)` : ''}`
        : '1',
    ],
    [
      'Came from',
      {
        webhook: 'a webhook delivery',
        trigger: 'omise-webhook trigger (simulated, not from Omise)',
        sync: 'omise-webhook sync (fetched from the Omise Events API)',
      }[detail.origin] ?? detail.origin,
    ],
    [
      'Body',
      `${formatBytes(detail.bodySize)}${detail.bodyEncoding === 'base64' ? ' (not UTF-8: shown as base64)' : ''}`,
    ],
  ];
  return html`<dl class="facts">
    ${rows.map(([name, value, wide]) => html`<div key=${name} class=${wide ? 'fact-wide' : undefined}><dt>${name}</dt><dd>${value}</dd></div>`)}
  </dl>`;
}

function Verification({ verification, omiseCopy }) {
  return html`<section class=${`verification verification-${verification.status}`} aria-label="Verification">
    <h3><${VerificationBadge} status=${verification.status} mode=${verification.mode} /> <span class="mode">by ${verification.mode}</span></h3>
    <p data-testid="diagnosis">${verification.diagnosis}</p>
    ${
      omiseCopy &&
      html`<p class="omise-copy">
        Omise's copy fetched ${formatTime(omiseCopy.fetchedAt)}:
        ${omiseCopy.differences.length === 0 ? ' the same as received.' : ` differs at ${omiseCopy.differences.join(', ')}.`}
      </p>`
    }
  </section>`;
}

/**
 * Later deliveries of this id whose body was not the first copy's: Omise does not do that on
 * its own, so each kept body is shown with the paths that differ and a line diff.
 */
function DifferingBodies({ detail }) {
  const n = detail.differingDeliveries;
  const kept = detail.differingBodies;
  const keptDeliveries = kept.reduce((sum, body) => sum + body.deliveries, 0);
  return html`<section class="verification verification-failed differing" aria-label="Bodies that differ" data-testid="differing-bodies">
    <h3>Body differs: ${n} later deliver${n === 1 ? 'y' : 'ies'} of this id carried another body</h3>
    <p>The event shown is the first copy. Omise sends the same bytes when it delivers an event again, so a different body under the same id came from something else, or was changed on the way.</p>
    ${kept.map(
      (body, index) => html`<div key=${body.sha256} class="differing-body">
        <h4>#${index + 1}: ${formatBytes(body.size)}, ${body.deliveries} deliver${body.deliveries === 1 ? 'y' : 'ies'}, first ${formatTime(body.firstReceivedAt)}${body.truncated ? ' (only the first 64 KiB kept)' : ''}</h4>
        <p class="muted">SHA-256 <code>${body.sha256}</code></p>
        ${body.differences && html`<p>Differs at: ${body.differences.length === 0 ? 'formatting only' : body.differences.join(', ')}</p>`}
        ${
          body.diff === null
            ? html`<pre class="code raw">${body.body}</pre>`
            : html`<pre class="code raw line-diff" data-testid="differing-diff">${body.diff}</pre>`
        }
      </div>`,
    )}
    ${
      keptDeliveries < n &&
      html`<p class="muted">${n - keptDeliveries} more carried bodies that were not kept (at most 5 distinct bodies are kept per event, and none before this version).</p>`
    }
  </section>`;
}

function Replay({ eventId }) {
  const [state, setState] = useState(null);
  const replay = async (resign) => {
    setState({ busy: true, resign });
    try {
      const result = await postJson(`/api/events/${encodeURIComponent(eventId)}/replay`, { resign });
      const attempts = result.attempts ?? [];
      const delivered = attempts.filter((attempt) => attempt.outcome === 'delivered').length;
      setState({
        ok: attempts.length > 0 && delivered === attempts.length,
        resign,
        text: attempts
          .map(
            (attempt) =>
              `${attempt.status ?? attempt.error ?? 'no answer'} from ${attempt.target} in ${formatLatency(attempt.latencyMs)}`,
          )
          .join('\n'),
      });
    } catch (error) {
      setState({ ok: false, resign, text: error.message });
    }
  };
  return html`<div class="replay">
    <button type="button" class="button" disabled=${state?.busy} onClick=${() => replay(false)}>Replay verbatim</button>
    <button type="button" class="button" disabled=${state?.busy} onClick=${() => replay(true)}>Replay re-signed</button>
    ${
      state &&
      !state.busy &&
      html`<div class=${state.ok ? 'replay-result ok' : 'replay-result failed'} role="status" data-testid="replay-result">
        <strong>${state.resign ? 'Re-signed replay' : 'Verbatim replay'}: ${state.ok ? 'delivered' : 'not delivered'}</strong>
        <pre>${state.text}</pre>
      </div>`
    }
  </div>`;
}

function Changes({ changes }) {
  if (!changes) return null;
  if (changes.length === 0) return html`<p class="no-changes">No field changed since the previous state.</p>`;
  return html`<table class="diff">
    <thead><tr><th scope="col">field</th><th scope="col">before</th><th scope="col">after</th></tr></thead>
    <tbody>
      ${changes.map(
        (change) => html`<tr key=${change.path} class=${`diff-${change.kind}`}>
          <th scope="row"><code>${change.path}</code></th>
          <td><code>${change.kind === 'added' ? '(absent)' : preview(change.before)}</code></td>
          <td><code>${change.kind === 'removed' ? '(absent)' : preview(change.after)}</code></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * The object's story oldest first, with what changed between consecutive states of it.
 * `version` changes when any event is stored or updated (it may be one of this object's).
 */
function Timeline({ objectId, currentId, version, hrefFor, onSelect }) {
  const story = useFetched(() => getJson(`/api/objects/${encodeURIComponent(objectId)}/events`), [objectId, version]);
  const items = story.data?.items ?? [];
  return html`<section class="timeline" aria-label=${`Timeline of ${objectId}`}>
    <h3>Timeline of <code>${objectId}</code></h3>
    <${ErrorNote} error=${story.error} />
    <ol>
      ${items.map(
        (entry) => html`<li key=${entry.id} class=${`timeline-entry${entry.id === currentId ? ' current' : ''}`}>
          <div class="timeline-head">
            <a
              href=${hrefFor(entry.id)}
              onClick=${onPlainClick(() => onSelect(entry.id))}
            >
              <strong>${entry.key}</strong>
            </a>
            <${StatusChip} status=${entry.status} />
            <span class="time">${formatTime(entry.receivedAt)}</span>
            ${entry.role === 'mentioned' ? html`<span class="mentioned">mentions it (${entry.objectType} ${entry.objectId})</span>` : ''}
          </div>
          <${Changes} changes=${entry.changes} />
        </li>`,
      )}
    </ol>
  </section>`;
}

/** `5.963` -> `6.0 ms`, `123.4` -> `123 ms`. */
function formatLatency(ms) {
  return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
}

const OUTCOME_LABEL = { delivered: '✔ delivered', retry: '↻ will retry', failed: '✖ failed' };

/** Every forward and replay attempt kept with the event, newest last, with what the target answered. */
function Forwarding({ attempts }) {
  if (attempts.length === 0) {
    return html`<p class="muted">No forward attempts: this event has not been forwarded anywhere. Start serve with --forward-to &lt;url&gt; to send events to your app.</p>`;
  }
  return html`<table class="forward-attempts" data-testid="forward-attempts">
    <thead>
      <tr><th scope="col">time</th><th scope="col">target</th><th scope="col">kind</th><th scope="col">answer</th><th scope="col">latency</th><th scope="col">outcome</th></tr>
    </thead>
    <tbody>
      ${attempts.map(
        (attempt) => html`<tr key=${attempt.seq} class=${`attempt-${attempt.outcome}`} data-attempt-seq=${attempt.seq}>
          <td>${formatTime(attempt.startedAt)}</td>
          <td><code>${attempt.target}</code></td>
          <td>${attempt.kind === 'replay' ? `replay (${attempt.replayMode ?? 'verbatim'})` : `forward #${attempt.attempt}`}</td>
          <td>
            ${attempt.status !== null ? html`<strong>${attempt.status}</strong>` : html`<span class="muted">${attempt.error ?? 'no answer'}</span>`}
            ${
              attempt.response &&
              html`<details><summary>response${attempt.responseTruncated ? ' (first 64 KiB)' : ''}</summary><pre class="code">${attempt.response}</pre></details>`
            }
          </td>
          <td>${formatLatency(attempt.latencyMs)}</td>
          <td>
            ${OUTCOME_LABEL[attempt.outcome] ?? attempt.outcome}
            ${attempt.reason && html`<div class="muted">${attempt.reason}</div>`}
            ${attempt.nextAttemptAt && html`<div class="muted">next try ${formatTime(attempt.nextAttemptAt)}</div>`}
          </td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/**
 * One event: what it is, whether to trust it and why, its bytes and headers exactly as
 * received, copy and replay actions, and the story of its object. `version` changes when this
 * event changes (refetch the detail); `storyVersion` when the timeline may have.
 */
export function EventDetail({ id, version, storyVersion, tab, status, hrefFor, onSelect, onTab, onClose, onSearchId }) {
  const { data: detail, error } = useFetched(() => getJson(`/api/events/${encodeURIComponent(id)}`), [id, version]);
  if (error) {
    return html`<article class="detail"><${ErrorNote} error=${error} /><button type="button" class="button" onClick=${onClose}>Close</button></article>`;
  }
  if (!detail || detail.id !== id) return html`<article class="detail"><p class="muted">Loading ${id}…</p></article>`;
  const parsed = parseBody(detail);
  const activeTab = TABS.some(([name]) => name === tab) ? tab : 'overview';
  const webhookUrl = status?.webhookUrl ?? 'http://127.0.0.1:3000/omise/webhook';
  return html`<article class="detail" aria-labelledby="detail-title" data-testid="event-detail">
    <header class="detail-head">
      <div>
        <h2 id="detail-title">${detail.key}</h2>
        <p class="detail-id"><${Id} value=${detail.id} /> · <${VerificationBadge} status=${detail.verification.status} mode=${detail.verification.mode} /> <${StatusChip} status=${detail.status} /></p>
      </div>
      <button type="button" class="button close" aria-label="Close the detail (Esc)" onClick=${onClose}>✕</button>
    </header>
    <div class="actions">
      <${CopyButton} label="Copy id" testId="copy-id" text=${detail.id} />
      <${CopyButton} label="Copy JSON" testId="copy-json" text=${() => (parsed === undefined ? detail.body : JSON.stringify(parsed, null, 2))} />
      <${CopyButton} label="Copy raw" testId="copy-raw" text=${detail.body} />
      <${CopyButton} label="Copy as curl" testId="copy-curl" text=${() => curlCommand({ url: webhookUrl, headers: detail.headers, body: detail.body })} />
    </div>
    <div class="tabs" role="tablist" aria-label="Event detail">
      ${TABS.map(
        ([name, label]) => html`<button
          key=${name}
          type="button"
          role="tab"
          id=${`tab-${name}`}
          aria-selected=${activeTab === name}
          aria-controls="detail-panel"
          onClick=${() => onTab(name)}
        >
          ${label}${name === 'headers' ? ` (${detail.headers.length})` : ''}${name === 'forwarding' ? ` (${detail.forwardAttempts.length})` : ''}
        </button>`,
      )}
    </div>
    <div class="tab-panel" id="detail-panel" role="tabpanel" aria-labelledby=${`tab-${activeTab}`}>
      ${
        activeTab === 'overview' &&
        html`<${Verification} verification=${detail.verification} omiseCopy=${detail.omiseCopy} />
          ${detail.differingDeliveries > 0 && html`<${DifferingBodies} detail=${detail} />`}
          <${Facts} detail=${detail} />
          <${Replay} eventId=${detail.id} />
          ${
            detail.objectId &&
            html`<${Timeline}
              objectId=${detail.objectId}
              currentId=${detail.id}
              version=${storyVersion}
              hrefFor=${hrefFor}
              onSelect=${onSelect}
            />`
          }`
      }
      ${
        activeTab === 'json' &&
        (parsed === undefined
          ? html`<p class="muted">The body is not JSON; see Raw.</p>`
          : html`<${JsonTree} value=${parsed} onId=${onSearchId} />`)
      }
      ${activeTab === 'raw' && html`<pre class="code raw" data-testid="raw-body">${detail.body}</pre>`}
      ${activeTab === 'headers' && html`<${Headers} headers=${detail.headers} />`}
      ${activeTab === 'forwarding' && html`<${Forwarding} attempts=${detail.forwardAttempts} />`}
    </div>
  </article>`;
}
