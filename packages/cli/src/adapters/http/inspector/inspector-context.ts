import type { Notifier } from '../../../core/notifier.js';
import type { EventStore, ForwardAttempt } from '../../../core/ports.js';

/**
 * What the page may know about the running server. Never a secret: keys are masked, and the
 * webhook secret is only ever reported as configured or not.
 */
export interface InspectorStatus {
  /** Where this machine receives webhooks (`http://127.0.0.1:3000/omise/webhook`). */
  webhookUrl: string;
  /** The full public HTTPS URL to paste into the dashboard (`https://…/omise/webhook`), from the tunnel or `--public-url`. */
  publicUrl: string | null;
  /** `signature`, `api`, `both` or `none`. */
  verificationMode: string;
  verificationConfigured: boolean;
  /** The secret key, masked (`skey_test_••••abcd`), or null when none is set. */
  secretKeyMasked: string | null;
  allowLive: boolean;
}

export interface ReplayOptions {
  /** Sign again with the current webhook secret and timestamp, instead of the stored headers. */
  resign: boolean;
  /** Send to this URL instead of the configured target. */
  to?: string;
}

/**
 * Everything the inspector reads from the rest of the application, in one object, so other
 * capabilities plug in by adding a field rather than editing the inspector.
 *
 * @example
 * startInspectorListener({ store, notifier, status: () => currentStatus(), replay: forwarder.replay }, options);
 */
export interface InspectorContext {
  store: EventStore;
  notifier: Notifier;
  status: () => InspectorStatus;
  /** Forwarding supplies this; without it the detail has `forwardAttempts: []`. */
  forwardAttemptsFor?: (eventId: string) => Promise<ForwardAttempt[]>;
  /**
   * Forwarding supplies this; without it `POST /api/events/{id}/replay` answers 501. It throws
   * an error with a `code` (`no_target`, `no_secret`, `bad_target`, ...) when a replay cannot start.
   */
  replay?: (eventId: string, options: ReplayOptions) => Promise<ForwardAttempt[]>;
  /**
   * Calls the listener whenever an event may have become visible in the store, so `/api/feed`
   * reads it at once (it also reads every second, so a lost call only delays). `serve` wires
   * the notifier's new `event.stored`; a shared store's change notifications plug in here too.
   * Returns the unsubscribe function.
   */
  watchFeed?: (listener: () => void) => () => void;
}
