import { readFileSync } from 'node:fs';

const FIXTURES = new URL('../../../events/test/fixtures/', import.meta.url);

export type FixtureName =
  | 'charge.create'
  | 'charge.complete'
  | 'refund.create'
  | 'dispute.create'
  | 'customer.update.card'
  | 'customer.destroy'
  | 'transfer.fail'
  | 'link.create'
  | 'schedule.expiring';

/** The library's byte-exact Omise event fixture, as text. */
export function fixtureBody(name: FixtureName): string {
  return readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8');
}

/** The charge of `charge.complete.json` (also in `refund.create.json` and `dispute.create.json`). */
export const STORY_CHARGE_ID = 'chrg_test_5ygr5q0ekcwwfgyq1rr';
export const STORY_CREATE_EVENT_ID = 'evnt_test_5ygr5q1create0001';

/**
 * The `charge.create` that came before `charge.complete.json`: the same charge, still pending
 * and unpaid. Between the two, exactly `transaction`, `status`, `paid_at` and `paid` change.
 */
export function pendingChargeCreateBody(): string {
  const complete = fixtureBody('charge.complete');
  const replaced = complete
    .replaceAll('evnt_test_5ygr5yxi8vd0mvv3pxp', STORY_CREATE_EVENT_ID)
    .replace('"key": "charge.complete"', '"key": "charge.create"')
    .replace('"created_at": "2024-01-18T09:41:27Z"', '"created_at": "2024-01-18T09:40:53Z"')
    .replace('"transaction": "trxn_test_5ygr5yw4cd6r7pvwdq8"', '"transaction": null')
    .replace('"status": "successful"', '"status": "pending"')
    .replace('"paid_at": "2024-01-18T09:41:26Z"', '"paid_at": null')
    .replace('"paid": true', '"paid": false');
  if (replaced === complete) throw new Error('charge.complete.json changed: update pendingChargeCreateBody');
  return replaced;
}

/** The fixtures in the order a story would deliver them, the pending charge.create first. */
export function storyBodies(): Array<{ name: string; body: string }> {
  return [
    { name: 'charge.create (pending)', body: pendingChargeCreateBody() },
    ...(
      [
        'charge.complete',
        'refund.create',
        'dispute.create',
        'customer.update.card',
        'customer.destroy',
        'transfer.fail',
        'link.create',
        'schedule.expiring',
        'charge.create',
      ] as const
    ).map((name) => ({ name, body: fixtureBody(name) })),
  ];
}
