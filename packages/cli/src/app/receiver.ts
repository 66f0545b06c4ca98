import type { ForwardRoute } from '../core/forwarding.js';
import { type IngestDependencies, type IngestPolicy, ingestWebhook } from '../core/ingest.js';
import type { Notifier } from '../core/notifier.js';
import type {
  Clock,
  EventLog,
  NewRejection,
  RejectionLog,
  WebhookAnswer,
  WebhookHandler,
  WebhookRequest,
} from '../core/ports.js';
import type { RejectionBodyBudget } from '../core/rejection-budget.js';
import { isStorageUnavailable } from '../core/storage-health.js';
import { type RecordEventDependencies, recordEvent } from './record-event.js';

export interface ReceiverOptions extends IngestDependencies, Pick<RecordEventDependencies, 'onCommitted'> {
  /** Accepted events go to the event log, refused requests to the rejection log. */
  store: Pick<EventLog, 'recordDelivery'> & Pick<RejectionLog, 'recordRejection'>;
  policy: IngestPolicy;
  notifier: Notifier;
  clock: Clock;
  /** Where accepted events are forwarded; their jobs are queued in the same commit as the event. */
  forwardRoutes?: readonly ForwardRoute[];
  /** How many refused requests keep their bodies; without it, every one does. */
  rejectionBodyBudget?: RejectionBodyBudget;
}

/**
 * The application service behind the webhook route: runs the ingest decision, commits the
 * outcome (an accepted event or a kept rejection) and only then produces the answer, so an
 * acknowledged event is always on disk. What happens after the commit (files, console,
 * inspector, forwarding) hangs off the notifier and never delays the answer.
 */
export class Receiver implements WebhookHandler {
  constructor(private readonly options: ReceiverOptions) {}

  async handleWebhook(request: WebhookRequest): Promise<WebhookAnswer> {
    const receivedAt = new Date(this.options.clock.now());
    const decision = await ingestWebhook(
      { body: request.body, headers: request.headers, receivedAt },
      this.options.policy,
      this.options,
    );
    if (decision.kind === 'reject') {
      const budget = this.options.rejectionBodyBudget;
      const keepBody = budget === undefined || budget.take();
      await this.keepRejection({
        receivedAt: receivedAt.toISOString(),
        method: request.method,
        path: request.path,
        remoteAddress: request.remoteAddress,
        headers: request.headers,
        body: keepBody ? request.body : new Uint8Array(0),
        bodySize: request.body.byteLength,
        status: decision.status,
        code: decision.code,
        reason: keepBody || budget === undefined ? decision.message : `${decision.message} ${budget.note}`,
        hint: decision.hint,
        eventId: decision.eventId,
      }).catch((error: unknown) => {
        // A full disk must not turn a bad request into a 5xx: it gets its own answer, unkept.
        if (!isStorageUnavailable(error)) throw error;
      });
      const body: Record<string, unknown> = { error: decision.code, message: decision.message };
      if (decision.hint) body.hint = decision.hint;
      return { status: decision.status, body };
    }
    const { event, duplicate, bodyDiffers } = await recordEvent(this.options, decision.delivery);
    return {
      status: 200,
      body: {
        received: true,
        id: event.eventId,
        duplicate,
        // Still 200 (a retry would not help), but the sender's tooling can see it was not a plain redelivery.
        ...(bodyDiffers ? { body_differs: true } : {}),
        deliveries: event.deliveryCount,
        verification: event.verification.status,
      },
      event,
      duplicate,
    };
  }

  /** Stores a refused request (also used by the listener for requests refused before ingest). */
  async keepRejection(rejection: NewRejection): Promise<void> {
    const stored = await this.options.store.recordRejection(rejection);
    this.options.notifier.publish({ type: 'rejection.stored', rejection: stored });
  }
}
