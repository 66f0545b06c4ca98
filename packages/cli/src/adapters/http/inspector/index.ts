// The inspector's public surface, listed once.
export { generateUiToken, isLoopbackHost } from './access-guard.js';
export type { EventDetail, EventSummary, RejectionDetail, RejectionSummary, TimelineEntry } from './event-views.js';
export { createInspectorApp, type InspectorApp, type InspectorAppOptions } from './inspector-app.js';
export type { InspectorContext, InspectorStatus, ReplayOptions } from './inspector-context.js';
export { type InspectorListenerOptions, type RunningInspector, startInspectorListener } from './inspector-listener.js';
export { type FeedNotification, NotificationFeed } from './notification-feed.js';
