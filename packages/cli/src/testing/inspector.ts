import { createInspectorApp, type InspectorApp } from '../adapters/http/inspector/inspector-app.js';
import { Notifier } from '../core/notifier.js';
import type { EventStore } from '../core/ports.js';

/** What `serve` on loopback with a webhook secret reports as its status (`/api/status`). */
export const loopbackServeStatus = () => ({
  webhookUrl: 'http://127.0.0.1:3000/omise/webhook',
  publicUrl: null,
  verificationMode: 'signature' as const,
  verificationConfigured: true,
  secretKeyMasked: null,
  allowLive: false,
});

/** An inspector over `store` as `serve` builds it on loopback (no token, port 3001), for in-process requests. */
export function loopbackInspectorFor(store: EventStore): InspectorApp {
  return createInspectorApp(
    {
      store,
      notifier: new Notifier(),
      status: loopbackServeStatus,
    },
    { token: null, loopbackOnly: true, port: 3001, runId: 'run1' },
  );
}
