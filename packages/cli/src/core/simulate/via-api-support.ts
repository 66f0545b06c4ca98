/**
 * Which event keys an Omise API call can cause in test mode, how, and why the others cannot.
 * `trigger --list` prints this table and `trigger --via-api` follows it.
 */
import type { OmiseEventKey } from '@omise-webhook/events';

export type ViaApiSupport =
  | { possible: true /** The calls made, in words. */; how: string }
  | { possible: false /** Why no API call can cause it, and what to do instead. */; why: string };

const DISPUTE =
  'a dispute is opened by the cardholder’s bank; Omise has no API that opens one in test mode, so dispute events can only be simulated (trigger without --via-api)';
const SCHEDULE_CLOCK =
  'Omise does this on the schedule’s own clock (end date reached, end date near, charges kept failing); no API call does it';
const RECIPIENT_ACTIVATION =
  'Omise (or the dashboard) activates and deactivates recipients; there is no API call for it';

/**
 * @example
 * VIA_API_SUPPORT['charge.capture']; // { possible: true, how: 'token, charge with capture=false, then capture' }
 */
export const VIA_API_SUPPORT: Readonly<Record<OmiseEventKey, ViaApiSupport>> = {
  'charge.create': { possible: true, how: 'card token (vault), then POST /charges' },
  'charge.update': { possible: true, how: 'a charge, then PATCH /charges/:id' },
  'charge.capture': { possible: true, how: 'a charge with capture=false, then POST /charges/:id/capture' },
  'charge.reverse': { possible: true, how: 'a charge with capture=false, then POST /charges/:id/reverse' },
  'charge.complete': {
    possible: true,
    how: 'a PromptPay charge, then the test-only POST /charges/:id/mark_as_paid',
  },
  'charge.expire': { possible: true, how: 'a PromptPay charge, then POST /charges/:id/expire' },
  'customer.create': { possible: true, how: 'POST /customers' },
  'customer.update': { possible: true, how: 'a customer, then PATCH /customers/:id' },
  'customer.destroy': { possible: true, how: 'a customer, then DELETE /customers/:id' },
  'customer.update.card': {
    possible: true,
    how: 'a customer, then PATCH /customers/:id with a new card token',
  },
  'card.update': { possible: true, how: 'a customer with a card, then PATCH /customers/:id/cards/:card' },
  'card.destroy': { possible: true, how: 'a customer with a card, then DELETE /customers/:id/cards/:card' },
  'dispute.create': { possible: false, why: DISPUTE },
  'dispute.update': { possible: false, why: DISPUTE },
  'dispute.accept': { possible: false, why: DISPUTE },
  'dispute.close': { possible: false, why: DISPUTE },
  'link.create': { possible: true, how: 'POST /links' },
  'recipient.create': { possible: true, how: 'POST /recipients' },
  'recipient.update': { possible: true, how: 'a recipient, then PATCH /recipients/:id' },
  'recipient.destroy': { possible: true, how: 'a recipient, then DELETE /recipients/:id' },
  'recipient.activate': { possible: false, why: RECIPIENT_ACTIVATION },
  'recipient.deactivate': { possible: false, why: RECIPIENT_ACTIVATION },
  'recipient.verify': { possible: true, how: 'a recipient, then the test-only PATCH /recipients/:id/verify' },
  'refund.create': { possible: true, how: 'a charge, then POST /charges/:id/refunds' },
  'schedule.create': { possible: true, how: 'a customer with a card, then POST /schedules' },
  'schedule.destroy': { possible: true, how: 'a schedule, then DELETE /schedules/:id' },
  'schedule.expire': { possible: false, why: SCHEDULE_CLOCK },
  'schedule.expiring': { possible: false, why: SCHEDULE_CLOCK },
  'schedule.suspend': { possible: false, why: SCHEDULE_CLOCK },
  'transfer.create': { possible: true, how: 'POST /transfers (to the default recipient)' },
  'transfer.update': { possible: true, how: 'a transfer, then PATCH /transfers/:id' },
  'transfer.destroy': { possible: true, how: 'a transfer, then DELETE /transfers/:id' },
  'transfer.send': { possible: true, how: 'a transfer, then the test-only POST /transfers/:id/mark_as_sent' },
  'transfer.pay': {
    possible: true,
    how: 'a transfer, then the test-only POST /transfers/:id/mark_as_sent and /mark_as_paid',
  },
  'transfer.fail': {
    possible: false,
    why: 'no API call makes a transfer fail in test mode (the bank refuses it, or the balance runs short)',
  },
};
