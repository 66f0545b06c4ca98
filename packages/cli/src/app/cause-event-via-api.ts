import type { OmiseEventKey } from '@omise-webhook/events';
import { type OmiseApiClient, OmiseApiError } from '../adapters/omise-api/omise-api-client.js';
import type { Clock } from '../core/ports.js';
import { omiseDate, omiseTime, VIA_API_SUPPORT } from '../core/simulate/index.js';
import { amountIn, type SimulatedCurrency } from '../core/simulate/objects.js';

/** The key cannot be caused by an API call; `why` says why and what to do instead. */
export class ViaApiUnsupported extends Error {
  override readonly name = 'ViaApiUnsupported';
  constructor(
    readonly key: OmiseEventKey,
    readonly why: string,
  ) {
    super(`${key} cannot be caused through the Omise API: ${why}`);
  }
}

/** Keys whose recipe starts with a card token, which needs the public key. */
const NEEDS_CARD_TOKEN = new Set<OmiseEventKey>([
  'charge.create',
  'charge.update',
  'charge.capture',
  'charge.reverse',
  'refund.create',
  'customer.update.card',
  'card.update',
  'card.destroy',
  'schedule.create',
  'schedule.destroy',
]);

/** Whether `--via-api` for this key needs OMISE_PUBLIC_KEY (to make a card token at the vault). */
export function needsPublicKey(key: OmiseEventKey): boolean {
  return NEEDS_CARD_TOKEN.has(key);
}

export interface CauseEventViaApiOptions {
  api: OmiseApiClient;
  key: OmiseEventKey;
  currency: SimulatedCurrency;
  clock: Clock;
  /** Told about each API call made, e.g. `POST /charges -> chrg_test_5x... (pending)`. */
  onStep?: (text: string) => void;
  /** How long to wait between looking for the caused event in `GET /events`. Default 1 s. */
  pollIntervalMs?: number;
  /** How many times to look. Default 5. */
  pollAttempts?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface CausedEvent {
  key: OmiseEventKey;
  /** The id of the event's `data` object (the charge, refund, customer...). */
  objectId: string;
  /** The event Omise recorded, once `GET /events` shows it; null when it did not show up in time. */
  eventId: string | null;
}

/**
 * Causes a real test-mode event by calling the Omise API (or the fake) the way an integration
 * would: a card token from the vault, a charge, then the call that causes `key`.
 *
 * @throws {ViaApiUnsupported} for keys no API call can cause (see `VIA_API_SUPPORT`).
 * @throws {OmiseApiError} when Omise refuses a call or cannot be reached.
 * @example
 * const caused = await causeEventViaApi({ api, key: 'charge.capture', currency: 'THB', clock: systemClock });
 */
export async function causeEventViaApi(options: CauseEventViaApiOptions): Promise<CausedEvent> {
  const { api, key, clock } = options;
  const support = VIA_API_SUPPORT[key];
  if (!support.possible) throw new ViaApiUnsupported(key, support.why);
  const step = options.onStep ?? (() => {});
  const startedAt = clock.now();
  const currency = options.currency;
  const amount = amountIn(currency, 129000);
  const year = new Date(startedAt).getUTCFullYear();

  const token = async () => {
    const { data } = await api.createToken({
      name: 'SOMCHAI PRASERT',
      number: '4242424242424242',
      expiration_month: 12,
      expiration_year: year + 3,
      security_code: '123',
      city: 'Bangkok',
      postal_code: '10320',
    });
    step(`POST /tokens (vault) -> ${data.id} (${data.card.brand} **** ${data.card.last_digits})`);
    return data;
  };
  const cardCharge = async (capture: boolean) => {
    const card = await token();
    const { data } = await api.createCharge({
      amount,
      currency,
      card: card.id,
      capture,
      description: `omise-webhook trigger ${key} --via-api`,
    });
    step(`POST /charges${capture ? '' : ' (capture=false)'} -> ${data.id} (${data.status})`);
    return data;
  };
  // PromptPay is a Thai payment method: its charges are always in THB.
  const promptPayCharge = async () => {
    const { data } = await api.createCharge({
      amount: 129000,
      currency: 'THB',
      source: { type: 'promptpay' },
      description: `omise-webhook trigger ${key} --via-api`,
    });
    step(`POST /charges (source[type]=promptpay) -> ${data.id} (${data.status})`);
    return data;
  };
  const customer = async (withCard: boolean) => {
    const card = withCard ? await token() : undefined;
    const { data } = await api.createCustomer({
      email: 'somchai.prasert@example.co.th',
      description: 'omise-webhook trigger --via-api',
      ...(card ? { card: card.id } : {}),
    });
    step(`POST /customers${card ? ' (with the card)' : ''} -> ${data.id}`);
    return data;
  };
  const recipient = async () => {
    const { data } = await api.createRecipient({
      name: 'Somchai Prasert',
      type: 'individual',
      email: 'somchai.prasert@example.co.th',
      bank_account: { brand: 'bbl', number: '1234567890', name: 'Somchai Prasert' },
    });
    step(`POST /recipients -> ${data.id}`);
    return data;
  };
  const transfer = async () => {
    const { data } = await api.createTransfer({ amount: amountIn(currency, 100000) });
    step(`POST /transfers -> ${data.id} (to the default recipient ${data.recipient})`);
    return data;
  };
  const schedule = async () => {
    const owner = await customer(true);
    const start = new Date(startedAt + 86_400_000);
    const end = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 6, 15));
    const { data } = await api.createSchedule({
      every: 1,
      period: 'month',
      on: { days_of_month: [15] },
      start_date: omiseDate(start.getTime()),
      end_date: omiseDate(end.getTime()),
      charge: { customer: owner.id, amount, currency, description: 'omise-webhook trigger --via-api' },
    });
    step(`POST /schedules -> ${data.id}`);
    return data;
  };
  const cardOf = (owner: { default_card: string | null; id: string }) => {
    if (!owner.default_card) throw new OmiseApiError(0, 'bad_response', `customer ${owner.id} has no card`);
    return owner.default_card;
  };

  let objectId: string;
  switch (key) {
    case 'charge.create':
      objectId = (await cardCharge(true)).id;
      break;
    case 'charge.update': {
      const charge = await cardCharge(true);
      await api.updateCharge(charge.id, { description: 'updated by omise-webhook trigger --via-api' });
      step(`PATCH /charges/${charge.id}`);
      objectId = charge.id;
      break;
    }
    case 'charge.capture': {
      const charge = await cardCharge(false);
      await api.captureCharge(charge.id);
      step(`POST /charges/${charge.id}/capture`);
      objectId = charge.id;
      break;
    }
    case 'charge.reverse': {
      const charge = await cardCharge(false);
      await api.reverseCharge(charge.id);
      step(`POST /charges/${charge.id}/reverse`);
      objectId = charge.id;
      break;
    }
    case 'charge.complete': {
      const charge = await promptPayCharge();
      await api.markChargeAsPaid(charge.id);
      step(`POST /charges/${charge.id}/mark_as_paid (test mode only)`);
      objectId = charge.id;
      break;
    }
    case 'charge.expire': {
      const charge = await promptPayCharge();
      await api.expireCharge(charge.id);
      step(`POST /charges/${charge.id}/expire`);
      objectId = charge.id;
      break;
    }
    case 'customer.create':
      objectId = (await customer(false)).id;
      break;
    case 'customer.update': {
      const created = await customer(false);
      await api.updateCustomer(created.id, { description: 'updated by omise-webhook trigger --via-api' });
      step(`PATCH /customers/${created.id}`);
      objectId = created.id;
      break;
    }
    case 'customer.destroy': {
      const created = await customer(false);
      await api.destroyCustomer(created.id);
      step(`DELETE /customers/${created.id}`);
      objectId = created.id;
      break;
    }
    case 'customer.update.card': {
      const created = await customer(false);
      const card = await token();
      await api.updateCustomer(created.id, { card: card.id });
      step(`PATCH /customers/${created.id} (card=${card.id})`);
      objectId = created.id;
      break;
    }
    case 'card.update': {
      const owner = await customer(true);
      const cardId = cardOf(owner);
      await api.updateCard(owner.id, cardId, { name: 'SOMCHAI P.' });
      step(`PATCH /customers/${owner.id}/cards/${cardId}`);
      objectId = cardId;
      break;
    }
    case 'card.destroy': {
      const owner = await customer(true);
      const cardId = cardOf(owner);
      await api.destroyCard(owner.id, cardId);
      step(`DELETE /customers/${owner.id}/cards/${cardId}`);
      objectId = cardId;
      break;
    }
    case 'link.create': {
      const { data } = await api.createLink({
        amount: amountIn(currency, 35000),
        currency,
        title: 'omise-webhook trigger --via-api',
        description: 'A test payment link',
      });
      step(`POST /links -> ${data.id}`);
      objectId = data.id;
      break;
    }
    case 'recipient.create':
      objectId = (await recipient()).id;
      break;
    case 'recipient.update': {
      const created = await recipient();
      await api.updateRecipient(created.id, { email: 'payouts@example.co.th' });
      step(`PATCH /recipients/${created.id}`);
      objectId = created.id;
      break;
    }
    case 'recipient.destroy': {
      const created = await recipient();
      await api.destroyRecipient(created.id);
      step(`DELETE /recipients/${created.id}`);
      objectId = created.id;
      break;
    }
    case 'recipient.verify': {
      const created = await recipient();
      await api.verifyRecipient(created.id);
      step(`PATCH /recipients/${created.id}/verify (test mode only)`);
      objectId = created.id;
      break;
    }
    case 'refund.create': {
      const charge = await cardCharge(true);
      const { data } = await api.createRefund(charge.id, {});
      step(`POST /charges/${charge.id}/refunds -> ${data.id}`);
      objectId = data.id;
      break;
    }
    case 'schedule.create':
      objectId = (await schedule()).id;
      break;
    case 'schedule.destroy': {
      const created = await schedule();
      await api.destroySchedule(created.id);
      step(`DELETE /schedules/${created.id}`);
      objectId = created.id;
      break;
    }
    case 'transfer.create':
      objectId = (await transfer()).id;
      break;
    case 'transfer.update': {
      const created = await transfer();
      await api.updateTransfer(created.id, { amount: Math.round(created.amount / 2) });
      step(`PATCH /transfers/${created.id}`);
      objectId = created.id;
      break;
    }
    case 'transfer.destroy': {
      const created = await transfer();
      await api.destroyTransfer(created.id);
      step(`DELETE /transfers/${created.id}`);
      objectId = created.id;
      break;
    }
    case 'transfer.send': {
      const created = await transfer();
      await api.markTransferAsSent(created.id);
      step(`POST /transfers/${created.id}/mark_as_sent (test mode only)`);
      objectId = created.id;
      break;
    }
    case 'transfer.pay': {
      const created = await transfer();
      await api.markTransferAsSent(created.id);
      step(`POST /transfers/${created.id}/mark_as_sent (test mode only)`);
      await api.markTransferAsPaid(created.id);
      step(`POST /transfers/${created.id}/mark_as_paid (test mode only)`);
      objectId = created.id;
      break;
    }
    default:
      throw new ViaApiUnsupported(key, 'no recipe for it');
  }

  const eventId = await findCausedEvent(options, objectId, startedAt);
  return { key, objectId, eventId };
}

/** Looks for the event the calls caused, newest first, allowing for a few minutes of clock skew. */
async function findCausedEvent(
  options: CauseEventViaApiOptions,
  objectId: string,
  startedAt: number,
): Promise<string | null> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = options.pollAttempts ?? 5;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const page = await options.api.listEvents({
      order: 'reverse_chronological',
      limit: 20,
      from: omiseTime(startedAt - 5 * 60_000),
    });
    const found = page.data.data.find((event) => {
      const data = event.data as { id?: unknown } | undefined;
      return event.key === options.key && data?.id === objectId;
    });
    if (found && typeof found.id === 'string') return found.id;
    if (attempt < attempts) await sleep(options.pollIntervalMs ?? 1000);
  }
  return null;
}
