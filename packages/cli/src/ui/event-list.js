import { useEffect, useRef, useState } from 'preact/hooks';
import { html, onPlainClick, StatusChip, VerificationBadge } from './common.js';
import { formatAmount, formatRelative, formatTime } from './format.js';

const VERIFICATIONS = ['verified', 'unverified', 'pending', 'failed'];

function groupKeys(byKey) {
  const groups = new Map();
  for (const [key, count] of Object.entries(byKey ?? {})) {
    const group = key.split('.')[0];
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push([key, count]);
  }
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** Filters by key (with counts), object type and verification; every choice is in the URL. */
export function FilterPanel({ stats, filters, onChange }) {
  const choose = (name, value) => onChange({ ...filters, [name]: filters[name] === value ? '' : value });
  const groups = groupKeys(stats?.byKey);
  const objectTypes = Object.entries(stats?.byObjectType ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return html`<nav class="filters" aria-label="Filters">
    <section>
      <h2>Event keys</h2>
      <ul class="key-list">
        <li>
          <button type="button" class="filter-item" aria-pressed=${!filters.key} onClick=${() => onChange({ ...filters, key: '' })}>
            <span>All events</span><span class="count" data-testid="total-count">${stats?.total ?? ''}</span>
          </button>
        </li>
        ${groups.map(
          ([group, keys]) => html`<li key=${group}>
            <button
              type="button"
              class="filter-item filter-group"
              aria-pressed=${filters.key === `${group}.*`}
              onClick=${() => choose('key', `${group}.*`)}
            >
              <span>${group}.*</span><span class="count">${keys.reduce((sum, [, n]) => sum + n, 0)}</span>
            </button>
            <ul>
              ${keys.map(
                ([key, count]) => html`<li key=${key}>
                  <button
                    type="button"
                    class="filter-item"
                    data-key=${key}
                    aria-pressed=${filters.key === key}
                    onClick=${() => choose('key', key)}
                  >
                    <span>${key}</span><span class="count">${count}</span>
                  </button>
                </li>`,
              )}
            </ul>
          </li>`,
        )}
      </ul>
    </section>
    <section>
      <h2><label for="object-filter">Object type</label></h2>
      <select id="object-filter" value=${filters.object ?? ''} onChange=${(e) => onChange({ ...filters, object: e.currentTarget.value })}>
        <option value="">any</option>
        ${objectTypes.map(([type, count]) => html`<option key=${type} value=${type}>${type} (${count})</option>`)}
      </select>
    </section>
    <section>
      <h2>Verification</h2>
      <div class="chips" role="group" aria-label="Verification outcome">
        ${VERIFICATIONS.map(
          (status) => html`<button
            key=${status}
            type="button"
            class="chip"
            data-verified=${status}
            aria-pressed=${filters.verified === status}
            onClick=${() => choose('verified', status)}
          >
            ${status} <span class="count">${stats ? (stats.byVerification?.[status] ?? 0) : ''}</span>
          </button>`,
        )}
      </div>
    </section>
  </nav>`;
}

/** The search box: any Omise id, or text in the payload. Applied as you type (debounced). */
export function SearchBox({ value, onSearch, inputRef }) {
  const [text, setText] = useState(value ?? '');
  const timer = useRef(null);
  useEffect(() => setText(value ?? ''), [value]);
  const change = (next) => {
    setText(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => onSearch(next.trim()), 250);
  };
  return html`<form class="search" role="search" onSubmit=${(e) => {
    e.preventDefault();
    clearTimeout(timer.current);
    onSearch(text.trim());
  }}>
    <label for="search" class="visually-hidden">Search by any id or text</label>
    <input
      id="search"
      ref=${inputRef}
      type="search"
      autocomplete="off"
      spellcheck="false"
      placeholder="Search: evnt_…, chrg_…, cust_…, rfnd_…, trsf_… or any text  (press /)"
      value=${text}
      onInput=${(e) => change(e.currentTarget.value)}
    />
  </form>`;
}

function Row({ event, selected, fresh, href, onSelect, now }) {
  return html`<li>
    <a
      class=${`row${selected ? ' selected' : ''}${fresh ? ' fresh' : ''}`}
      href=${href}
      data-event-id=${event.id}
      aria-current=${selected ? 'true' : undefined}
      onClick=${onPlainClick(() => onSelect(event.id))}
    >
      <span class="cell key">${event.key}</span>
      <span class="cell object-id">${event.objectId ?? '—'}</span>
      <span class="cell amount">${formatAmount(event.amount, event.currency)}</span>
      <span class="cell"><${StatusChip} status=${event.status} /></span>
      <span class="cell verify"><${VerificationBadge} status=${event.verification.status} mode=${event.verification.mode} />${event.origin === 'trigger' ? html` <span class="origin-tag" title="sent by omise-webhook trigger, not by Omise">simulated</span>` : ''}</span>
      <span class="cell time" title=${formatTime(event.receivedAt)}>${formatRelative(event.receivedAt, now)}</span>
      <span class="cell deliveries" title=${`delivered ${event.deliveryCount} time${event.deliveryCount === 1 ? '' : 's'}${event.bodyDiffers ? ', not always with the same body' : ''}`}>
        ${event.deliveryCount > 1 ? `×${event.deliveryCount}` : ''}${event.bodyDiffers ? html`<span class="body-differs" data-testid="body-differs" aria-label="body differs">≠</span>` : ''}
      </span>
    </a>
  </li>`;
}

/**
 * The list, newest first, a page at a time: older pages load when the end scrolls into view
 * (or with the button), so even 100,000 stored events never become 100,000 rows.
 */
export function EventList({ list, selectedId, freshIds, hrefFor, onSelect, onLoadMore, now }) {
  const sentinel = useRef(null);
  useEffect(() => {
    if (!sentinel.current || !list.nextCursor) return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) onLoadMore();
    });
    observer.observe(sentinel.current);
    return () => observer.disconnect();
  }, [list.nextCursor, onLoadMore]);
  return html`<div class="list-body">
    <div class="row row-head" aria-hidden="true">
      <span class="cell">key</span><span class="cell">object</span><span class="cell amount">amount</span><span class="cell">status</span><span class="cell">verification</span><span class="cell">received</span><span class="cell deliveries-head" data-testid="deliveries-head" title="Deliveries: ×2 when Omise delivered the event twice; ≠ when a later delivery carried another body">deliveries</span>
    </div>
    <ul class="rows" aria-label="Events, newest first">
      ${list.items.map(
        (event) =>
          html`<${Row}
            key=${event.id}
            event=${event}
            selected=${event.id === selectedId}
            fresh=${freshIds.has(event.id)}
            href=${hrefFor(event.id)}
            onSelect=${onSelect}
            now=${now}
          />`,
      )}
    </ul>
    ${
      list.nextCursor
        ? html`<div class="load-more" ref=${sentinel}>
            <button type="button" class="button" disabled=${list.loadingMore} onClick=${onLoadMore}>
              ${list.loadingMore ? 'Loading…' : 'Load older events'}
            </button>
          </div>`
        : list.items.length > 0 && html`<p class="list-end">That is every matching event (${list.items.length}).</p>`
    }
  </div>`;
}
