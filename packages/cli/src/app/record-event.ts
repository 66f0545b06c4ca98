import { type ForwardRoute, forwardTargetsFor } from '../core/forwarding.js';
import type { Notifier } from '../core/notifier.js';
import type { EventLog, NewDelivery, RecordDeliveryResult } from '../core/ports.js';

export interface RecordEventDependencies {
  store: Pick<EventLog, 'recordDelivery'>;
  notifier?: Notifier;
  /** `serve`'s forward routes; the matching targets' jobs are committed with the event. */
  forwardRoutes?: readonly ForwardRoute[];
  /**
   * Told once the event is committed, before it is on disk and acknowledged: the forwarder
   * starts sending there, so the developer's app does not wait for the disk either.
   */
  onCommitted?: (result: RecordDeliveryResult) => void;
}

/**
 * The one way an accepted event enters the store, whatever brought it (a webhook, sync):
 * attach the forward jobs it needs, commit it (telling `onCommitted`), and once it is on disk
 * tell the rest of the application, after the caller has answered (see below).
 * Keeping this in one place means a new source of events cannot forget to forward them.
 *
 * @example
 * const { event, duplicate } = await recordEvent({ store, notifier, forwardRoutes }, delivery);
 */
export async function recordEvent(
  dependencies: RecordEventDependencies,
  delivery: NewDelivery,
): Promise<RecordDeliveryResult> {
  const routes = dependencies.forwardRoutes ?? [];
  const targets = routes.length > 0 ? forwardTargetsFor(delivery, routes) : [];
  // A copy: the caller's delivery is its own (sync reuses its objects; a test may send it twice).
  // Object.assign, not `{ ...delivery, forwardTargets }`:
  // a spread followed by more properties gives every object its own hidden class
  // (docs/architecture.md, "Hot-path objects").
  const toStore = targets.length > 0 ? Object.assign({}, delivery, { forwardTargets: targets }) : delivery;
  const result = await dependencies.store.recordDelivery(
    toStore,
    dependencies.onCommitted ? { onCommitted: dependencies.onCommitted } : {},
  );
  // After the answer: the caller's continuation (writing the 2xx) runs in this turn's
  // microtasks, the listeners (the console line, the file mirror, the inspector's stream) at the
  // next check phase; none of them is needed to answer Omise. Forwarding does not wait for
  // this: it started at the commit (onCommitted).
  dependencies.notifier?.publishSoon({
    type: 'event.stored',
    event: result.event,
    duplicate: result.duplicate,
    ...(result.bodyDiffers ? { bodyDiffers: true } : {}),
  });
  return result;
}
