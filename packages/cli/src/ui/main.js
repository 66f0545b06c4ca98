import { render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { eventsQuery, getJson, openStream } from './api.js';
import { ErrorNote, html } from './common.js';
import { EmptyState } from './empty-state.js';
import { EventDetail } from './event-detail.js';
import { EventList, FilterPanel, SearchBox } from './event-list.js';
import { RejectedList, RejectionDetail } from './rejected-view.js';

const FILTER_NAMES = ['key', 'object', 'verified', 'q'];
const HEAD_SIZE = 50;

/** Everything the page shows is in its URL, so a view can be shared and reloaded. */
function readRoute() {
  const params = new URLSearchParams(location.search);
  return {
    view: params.get('view') === 'rejected' ? 'rejected' : 'events',
    filters: Object.fromEntries(FILTER_NAMES.map((name) => [name, params.get(name) ?? ''])),
    event: params.get('event') ?? '',
    rejection: params.get('rejection') ?? '',
    tab: params.get('tab') ?? '',
  };
}

function routeUrl(route) {
  const params = new URLSearchParams();
  if (route.view === 'rejected') params.set('view', 'rejected');
  for (const name of FILTER_NAMES) if (route.filters[name]) params.set(name, route.filters[name]);
  if (route.view === 'events' && route.event) {
    params.set('event', route.event);
    if (route.tab && route.tab !== 'overview') params.set('tab', route.tab);
  }
  if (route.view === 'rejected' && route.rejection) params.set('rejection', route.rejection);
  const text = params.toString();
  return text ? `/?${text}` : '/';
}

const THEMES = ['auto', 'light', 'dark'];

const STREAM_LABELS = { live: 'live', reconnecting: 'reconnecting…', closed: 'disconnected: reload the page' };

function useTheme() {
  const [theme, setTheme] = useState(() => {
    const saved = localStorage.getItem('omise-webhook-theme');
    return THEMES.includes(saved) ? saved : 'auto';
  });
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('omise-webhook-theme', theme);
  }, [theme]);
  return [theme, () => setTheme(THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length])];
}

function isTyping(target) {
  return (
    target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))
  );
}

function App() {
  const [route, setRoute] = useState(readRoute);
  const [status, setStatus] = useState(null);
  const [stats, setStats] = useState(null);
  const [list, setList] = useState({ items: [], nextCursor: null, loading: true, loadingMore: false, error: null });
  const [rejected, setRejected] = useState({ items: [], nextCursor: null, loading: true, error: null });
  // null until the stream says something: it opens only after the first page of the list, so
  // "connecting…" before then would be a guess.
  const [streamState, setStreamState] = useState(null);
  const [freshIds, setFreshIds] = useState(() => new Set());
  // An open detail refetches when its own event changes (versions[id]); its object's timeline
  // when any event is stored or updated, since a notification does not say which objects the
  // event touches (a refund mentions its charge).
  const [versions, setVersions] = useState({});
  const [storyVersion, setStoryVersion] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [theme, nextTheme] = useTheme();
  const searchInput = useRef(null);
  const routeRef = useRef(route);
  routeRef.current = route;
  const listRef = useRef(list);
  listRef.current = list;
  const listRequest = useRef(0);
  const stream = useRef(null);
  const pending = useRef({ ids: new Set(), stories: false, rejections: false, timer: null });

  const navigate = useCallback((next, options = {}) => {
    const url = routeUrl(next);
    if (url !== `${location.pathname}${location.search}`)
      history[options.replace ? 'replaceState' : 'pushState'](null, '', url);
    setRoute(next);
  }, []);

  useEffect(() => {
    const onPop = () => setRoute(readRoute());
    window.addEventListener('popstate', onPop);
    const tick = setInterval(() => setNow(Date.now()), 10_000);
    return () => {
      window.removeEventListener('popstate', onPop);
      clearInterval(tick);
    };
  }, []);

  const loadStats = useCallback(() => {
    getJson('/api/stats')
      .then(setStats)
      .catch(() => {});
  }, []);

  const loadRejected = useCallback(async () => {
    try {
      const page = await getJson('/api/rejected');
      setRejected({ items: page.items, nextCursor: page.nextCursor, loading: false, error: null });
    } catch (error) {
      setRejected({ items: [], nextCursor: null, loading: false, error });
    }
  }, []);

  // Reloads the first page of the list for the current filters, and opens the live stream
  // from the position the API gave with it (so nothing between the two is missed).
  const loadList = useCallback(async () => {
    const request = ++listRequest.current;
    setList((current) => ({ ...current, loading: true, error: null }));
    try {
      const page = await getJson(`/api/events${eventsQuery(routeRef.current.filters)}`);
      if (request !== listRequest.current) return;
      setList({ items: page.items, nextCursor: page.nextCursor, loading: false, loadingMore: false, error: null });
      if (!stream.current) stream.current = startStream(page.lastEventId);
    } catch (error) {
      if (request === listRequest.current) {
        setList({ items: [], nextCursor: null, loading: false, loadingMore: false, error });
      }
    }
  }, []);

  const loadMore = useCallback(async () => {
    const current = listRef.current;
    if (!current.nextCursor || current.loadingMore) return;
    const request = listRequest.current;
    setList((l) => ({ ...l, loadingMore: true }));
    try {
      const page = await getJson(`/api/events${eventsQuery(routeRef.current.filters, { cursor: current.nextCursor })}`);
      if (request !== listRequest.current) return;
      setList((l) => {
        const known = new Set(l.items.map((item) => item.id));
        return {
          ...l,
          items: [...l.items, ...page.items.filter((item) => !known.has(item.id))],
          nextCursor: page.nextCursor,
          loadingMore: false,
        };
      });
    } catch (error) {
      setList((l) => ({ ...l, loadingMore: false, error }));
    }
  }, []);

  // New events: fetch the head of the list again and merge it in, newest first.
  const refreshHead = useCallback(async (ids) => {
    const request = listRequest.current;
    const page = await getJson(`/api/events${eventsQuery(routeRef.current.filters, { limit: HEAD_SIZE })}`);
    if (request !== listRequest.current) return;
    const current = listRef.current;
    const topSeq = current.items[0]?.seq ?? 0;
    const newer = page.items.filter((item) => item.seq > topSeq);
    const byId = new Map(page.items.map((item) => [item.id, item]));
    const gap = newer.length === page.items.length && page.nextCursor && current.items.length > 0;
    setList((l) =>
      gap
        ? { ...l, items: page.items, nextCursor: page.nextCursor }
        : { ...l, items: [...newer, ...l.items.map((item) => byId.get(item.id) ?? item)] },
    );
    if (newer.length > 0) {
      const arrived = new Set(newer.map((item) => item.id));
      setFreshIds(arrived);
      setTimeout(() => setFreshIds((currentFresh) => (currentFresh === arrived ? new Set() : currentFresh)), 2500);
    }
    // Updated events further down the list than the head: refresh their rows one by one.
    for (const id of ids) {
      if (byId.has(id) || !current.items.some((item) => item.id === id)) continue;
      getJson(`/api/events/${encodeURIComponent(id)}`)
        .then((detail) =>
          setList((l) => ({
            ...l,
            items: l.items.map((item) => (item.id === id ? { ...item, ...pickSummary(detail) } : item)),
          })),
        )
        .catch(() => {});
    }
  }, []);

  const flushNotifications = useCallback(() => {
    const batch = pending.current;
    batch.timer = null;
    const ids = [...batch.ids];
    batch.ids.clear();
    const rejections = batch.rejections;
    batch.rejections = false;
    const stories = batch.stories;
    batch.stories = false;
    if (ids.length > 0) {
      refreshHead(ids).catch(() => {});
      setVersions((current) => {
        const next = { ...current };
        for (const id of ids) next[id] = (next[id] ?? 0) + 1;
        return next;
      });
    }
    if (stories) setStoryVersion((v) => v + 1);
    if (rejections && routeRef.current.view === 'rejected') loadRejected();
    loadStats();
  }, [refreshHead, loadRejected, loadStats]);

  const startStream = (position) =>
    openStream(position, {
      onNotification: (notification) => {
        const batch = pending.current;
        if (notification.type === 'rejection.stored') batch.rejections = true;
        else {
          batch.ids.add(notification.id);
          // A forward attempt changes its event's detail, never an object's timeline.
          if (notification.type !== 'forward.attempted') batch.stories = true;
        }
        // A short pause gathers a burst into one request.
        batch.timer ??= setTimeout(flushNotifications, 100);
      },
      onReset: () => {
        loadList();
        loadStats();
        if (routeRef.current.view === 'rejected') loadRejected();
      },
      onState: setStreamState,
    });

  useEffect(() => {
    getJson('/api/status')
      .then(setStatus)
      .catch(() => {});
    loadStats();
    return () => stream.current?.();
  }, [loadStats]);

  const filtersKey = JSON.stringify(route.filters);
  // The list reloads whenever the filters change (compared by value, through filtersKey).
  useEffect(() => {
    loadList();
  }, [filtersKey, loadList]);

  useEffect(() => {
    if (route.view === 'rejected') loadRejected();
  }, [route.view, loadRejected]);

  const setFilters = (filters) => navigate({ ...routeRef.current, filters, event: routeRef.current.event });
  const selectEvent = useCallback((id) => navigate({ ...routeRef.current, view: 'events', event: id }), [navigate]);
  const selectRejection = useCallback(
    (id) => navigate({ ...routeRef.current, view: 'rejected', rejection: id }),
    [navigate],
  );
  const eventHref = (id) => routeUrl({ ...route, view: 'events', event: id, tab: '' });
  const rejectionHref = (id) => routeUrl({ ...route, view: 'rejected', rejection: String(id) });
  const closeDetail = () =>
    navigate(route.view === 'rejected' ? { ...route, rejection: '' } : { ...route, event: '', tab: '' });
  const searchFor = (q) =>
    navigate({ ...routeRef.current, view: 'events', filters: { ...routeRef.current.filters, q } });

  useEffect(() => {
    const onKey = (e) => {
      if (e.metaKey || e.ctrlKey || e.altKey) return;
      if (isTyping(e.target)) {
        if (e.key === 'Escape') e.target.blur();
        return;
      }
      const current = routeRef.current;
      if (e.key === '/') {
        e.preventDefault();
        searchInput.current?.focus();
        return;
      }
      if (e.key === 'Escape') {
        closeDetail();
        return;
      }
      const down = e.key === 'j' || e.key === 'ArrowDown';
      const up = e.key === 'k' || e.key === 'ArrowUp';
      if (!down && !up) return;
      e.preventDefault();
      const rows = [
        ...document.querySelectorAll(current.view === 'rejected' ? '[data-rejection-id]' : '[data-event-id]'),
      ];
      if (rows.length === 0) return;
      const attribute = current.view === 'rejected' ? 'data-rejection-id' : 'data-event-id';
      const selected = current.view === 'rejected' ? current.rejection : current.event;
      const index = rows.findIndex((row) => row.getAttribute(attribute) === selected);
      const nextIndex = index === -1 ? 0 : Math.max(0, Math.min(rows.length - 1, index + (down ? 1 : -1)));
      const row = rows[nextIndex];
      const id = row.getAttribute(attribute);
      if (current.view === 'rejected') selectRejection(id);
      else selectEvent(id);
      row.focus();
      row.scrollIntoView({ block: 'nearest' });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const filtered = FILTER_NAMES.some((name) => route.filters[name]);
  const nothingStored = stats !== null && stats.total === 0;
  // Until the first page arrives there is nothing to count: say so rather than show zeros.
  const firstLoad = list.loading && list.items.length === 0 && !list.error && !nothingStored;

  return html`<div class="app">
    <header class="topbar">
      <div class="brand">omise-webhook <span>inspector</span></div>
      <nav class="views" aria-label="Views">
        <a
          href=${routeUrl({ ...route, view: 'events' })}
          aria-current=${route.view === 'events' ? 'page' : undefined}
          onClick=${(e) => {
            e.preventDefault();
            navigate({ ...route, view: 'events' });
          }}
        >Events <span class="count">${stats?.total ?? ''}</span></a>
        <a
          href=${routeUrl({ ...route, view: 'rejected' })}
          aria-current=${route.view === 'rejected' ? 'page' : undefined}
          data-testid="rejected-tab"
          onClick=${(e) => {
            e.preventDefault();
            navigate({ ...route, view: 'rejected' });
          }}
        >Rejected <span class="count">${stats?.rejected ?? ''}</span></a>
      </nav>
      <div class="server-state">
        <span class=${streamState ? `live live-${streamState}` : undefined} role="status" aria-live="polite" data-testid="stream-state">
          ${STREAM_LABELS[streamState] ?? ''}
        </span>
        ${
          status &&
          (status.publicUrl
            ? html`<code class="webhook-url" data-testid="header-webhook-url" title=${`Paste this into the Omise dashboard; it reaches ${status.webhookUrl}`}>POST ${status.publicUrl}</code>`
            : html`<code class="webhook-url" data-testid="header-webhook-url" title="Webhooks are received here">POST ${status.webhookUrl}</code>`)
        }
        ${
          status &&
          html`<span class=${status.verificationConfigured ? 'badge badge-verified' : 'badge badge-unverified'}>
            ${status.verificationConfigured ? `verifying: ${status.verificationMode}` : 'verification off'}
          </span>`
        }
        <button type="button" class="button theme" onClick=${nextTheme} aria-label=${`Theme: ${theme} (change)`}>
          ${theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'} ${theme}
        </button>
      </div>
    </header>
    ${
      route.view === 'events'
        ? html`<main class=${`layout${route.event ? ' with-detail' : ''}`}>
            <${FilterPanel} stats=${stats} filters=${route.filters} onChange=${setFilters} />
            <section class="list-pane" aria-label="Events">
              <${SearchBox}
                value=${route.filters.q}
                inputRef=${searchInput}
                onSearch=${(q) => navigate({ ...routeRef.current, filters: { ...routeRef.current.filters, q } }, { replace: true })}
              />
              <${ErrorNote} error=${list.error} />
              ${
                firstLoad
                  ? html`<p class="loading" role="status" data-testid="list-loading">Loading events…</p>`
                  : nothingStored
                    ? html`<${EmptyState} status=${status} />`
                    : !list.loading && list.items.length === 0 && filtered
                      ? html`<div class="empty" data-testid="no-match">
                        <h2>No events match</h2>
                        <p>Nothing stored matches these filters${route.filters.q ? html` and the search <code>${route.filters.q}</code>` : ''}.</p>
                        <button type="button" class="button" onClick=${() => setFilters({ key: '', object: '', verified: '', q: '' })}>Clear filters</button>
                      </div>`
                      : html`<${EventList}
                        list=${list}
                        selectedId=${route.event}
                        freshIds=${freshIds}
                        hrefFor=${eventHref}
                        onSelect=${selectEvent}
                        onLoadMore=${loadMore}
                        now=${now}
                      />`
              }
            </section>
            ${
              route.event
                ? html`<section class="detail-pane" aria-label="Event detail">
                    <${EventDetail}
                      id=${route.event}
                      version=${versions[route.event] ?? 0}
                      storyVersion=${storyVersion}
                      tab=${route.tab}
                      status=${status}
                      hrefFor=${eventHref}
                      onSelect=${selectEvent}
                      onTab=${(tab) => navigate({ ...routeRef.current, tab }, { replace: true })}
                      onClose=${closeDetail}
                      onSearchId=${searchFor}
                    />
                  </section>`
                : html`<aside class="detail-pane hint">
                    <p>Select an event to see its verification, JSON, raw bytes, headers and its object's timeline.</p>
                    <p class="keys"><kbd>/</kbd> search · <kbd>j</kbd>/<kbd>k</kbd> or <kbd>↓</kbd>/<kbd>↑</kbd> move · <kbd>Esc</kbd> close</p>
                  </aside>`
            }
          </main>`
        : html`<main class=${`layout rejected-layout${route.rejection ? ' with-detail' : ''}`}>
            <section class="list-pane" aria-label="Rejected requests">
              <${RejectedList}
                list=${rejected}
                selectedId=${route.rejection}
                hrefFor=${rejectionHref}
                onSelect=${selectRejection}
                onLoadMore=${async () => {
                  const page = await getJson(`/api/rejected?cursor=${rejected.nextCursor}`);
                  setRejected((r) => ({ ...r, items: [...r.items, ...page.items], nextCursor: page.nextCursor }));
                }}
                now=${now}
              />
            </section>
            ${
              route.rejection
                ? html`<section class="detail-pane" aria-label="Rejected request"><${RejectionDetail} id=${route.rejection} onClose=${closeDetail} /></section>`
                : html`<aside class="detail-pane hint"><p>Select a rejected request to see why it was refused, its headers and its exact bytes.</p></aside>`
            }
          </main>`
    }
  </div>`;
}

const SUMMARY_FIELDS = [
  'id',
  'seq',
  'key',
  'livemode',
  'objectType',
  'objectId',
  'amount',
  'currency',
  'status',
  'createdAt',
  'receivedAt',
  'lastReceivedAt',
  'deliveryCount',
  'origin',
  'bodyDiffers',
];

function pickSummary(detail) {
  const summary = Object.fromEntries(SUMMARY_FIELDS.map((name) => [name, detail[name]]));
  summary.verification = { mode: detail.verification.mode, status: detail.verification.status };
  return summary;
}

render(html`<${App} />`, document.getElementById('app'));
