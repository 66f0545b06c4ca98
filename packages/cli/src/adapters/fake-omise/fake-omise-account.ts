/**
 * The test-mode operations of the fake Omise API: each checks its parameters the way Omise does,
 * changes the account's objects with the same state changes the event builders use, and reports
 * the event it causes through `emit`.
 */
import type {
  OmiseCard,
  OmiseCharge,
  OmiseCustomer,
  OmiseEventDataMap,
  OmiseEventKey,
  OmiseRecipient,
  OmiseSchedule,
  OmiseTransfer,
} from '@omise-webhook/events';
import type { Clock } from '../../core/ports.js';
import { type IdSource, omiseTime } from '../../core/simulate/ids.js';
import {
  addCustomerCard,
  captureCharge,
  chargeWithRefund,
  completeCharge,
  deletedStub,
  destroySchedule as destroyedSchedule,
  expireCharge,
  FAILING_TEST_CARDS,
  newCard,
  newCharge,
  newCustomer,
  newLink,
  newPromptPaySource,
  newRecipient,
  newRefund,
  newSchedule,
  newTransfer,
  payTransfer,
  replaceCustomerCard,
  reverseCharge,
  type SimulationContext,
  sendTransfer,
  updateCharge,
  updateRecipient,
  updateTransfer,
  verifyRecipient,
} from '../../core/simulate/objects.js';
import type { FakeOmiseState, JsonObject } from './fake-omise-state.js';
import { objectParam, type Params, textParam } from './request-params.js';

/** An error the fake answers with, in Omise's error-object shape. */
export class FakeOmiseError extends Error {
  override readonly name = 'FakeOmiseError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The error object Omise answers with; `location` links to the documentation of the code. */
export function omiseErrorObject(code: string, message: string): JsonObject {
  return {
    object: 'error',
    location: `https://www.omise.co/api-errors#${code.replaceAll('_', '-')}`,
    code,
    message,
  };
}

export interface FakeOmiseAccountOptions {
  state: FakeOmiseState;
  ids: IdSource;
  clock: Clock;
  /** Called once per event an operation causes, with the object as it is after the change. */
  emit: <K extends OmiseEventKey>(key: K, data: OmiseEventDataMap[K]) => void;
}

/** The part of a token the fake keeps to itself: the card number decides whether a charge fails. */
const TEST_CARD_NUMBER = '__test_card_number';

function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let digit = Number(number[number.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function integerParam(params: Params, name: string, options: { required: boolean; code: string }): number | undefined {
  const text = textParam(params, name);
  if (text === undefined || text === '') {
    if (options.required) throw new FakeOmiseError(400, options.code, `${name} is required`);
    return undefined;
  }
  if (!/^-?\d+$/.test(text))
    throw new FakeOmiseError(400, options.code, `${name} must be an integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

function booleanParam(params: Params, name: string, fallback: boolean): boolean {
  const text = textParam(params, name);
  if (text === undefined || text === '') return fallback;
  return !['false', '0', 'no'].includes(text.toLowerCase());
}

function currencyParam(params: Params, code: string): string {
  const currency = textParam(params, 'currency');
  if (currency === undefined || currency === '') throw new FakeOmiseError(400, code, 'currency is required');
  if (!/^[a-z]{3}$/i.test(currency)) {
    throw new FakeOmiseError(
      400,
      code,
      `currency must be a three-letter code such as thb or jpy, got ${JSON.stringify(currency)}`,
    );
  }
  return currency.toUpperCase();
}

/** Omise's smallest charge: 20.00 THB, 100 JPY. */
function minimumAmount(currency: string): number {
  return currency === 'JPY' ? 100 : 2000;
}

function metadataParam(params: Params): JsonObject | undefined {
  return objectParam(params, 'metadata');
}

/**
 * The account behind the fake API. Every method throws {@link FakeOmiseError} for what Omise
 * would refuse, and returns the object Omise answers with.
 */
export class FakeOmiseAccount {
  readonly #state: FakeOmiseState;
  readonly #ids: IdSource;
  readonly #clock: Clock;
  readonly #emit: FakeOmiseAccountOptions['emit'];

  constructor(options: FakeOmiseAccountOptions) {
    this.#state = options.state;
    this.#ids = options.ids;
    this.#clock = options.clock;
    this.#emit = options.emit;
  }

  #ctx(currency = 'THB'): SimulationContext {
    return { ids: this.#ids, now: this.#clock.now(), currency: currency === 'JPY' ? 'JPY' : 'THB' };
  }

  #find<T>(kind: string, id: string): T {
    const object = this.#state.getObject<T & { object?: string }>(id);
    if (!object || object.object !== kind) throw new FakeOmiseError(404, 'not_found', `${kind} ${id} was not found`);
    return structuredClone(object);
  }

  #save<T extends { id: string }>(object: T): T {
    this.#state.putObject(object);
    return object;
  }

  /** `GET /<kind>s/:id`: the object as it is now. Tokens hide what only the fake needs. */
  retrieve(kind: string, id: string): JsonObject {
    const object = this.#find<JsonObject>(kind, id);
    delete object[TEST_CARD_NUMBER];
    return object;
  }

  // -------------------------------------------------------------------------------------------
  // Tokens (the vault)

  /** `POST /tokens` on the vault, with the public key: a single-use card token. */
  createToken(params: Params): JsonObject {
    const card = objectParam(params, 'card');
    if (!card)
      throw new FakeOmiseError(
        400,
        'invalid_card',
        'card is required (card[name], card[number], card[expiration_month], card[expiration_year])',
      );
    const number = (textParam(card, 'number') ?? '').replace(/[\s-]/g, '');
    if (!/^\d{13,19}$/.test(number) || !luhnValid(number))
      throw new FakeOmiseError(400, 'invalid_card', 'number is invalid');
    const name = textParam(card, 'name');
    if (!name) throw new FakeOmiseError(400, 'invalid_card', 'name is required');
    const month = integerParam(card, 'expiration_month', { required: true, code: 'invalid_card' }) as number;
    const year = integerParam(card, 'expiration_year', { required: true, code: 'invalid_card' }) as number;
    if (month < 1 || month > 12)
      throw new FakeOmiseError(400, 'invalid_card', 'expiration month is not between 1 and 12');
    const now = new Date(this.#clock.now());
    if (year < now.getUTCFullYear() || (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1)) {
      throw new FakeOmiseError(400, 'invalid_card', 'expiration date cannot be in the past');
    }
    const ctx = this.#ctx();
    const id = this.#ids.next('tokn');
    const token = {
      object: 'token',
      id,
      livemode: false,
      location: `/tokens/${id}`,
      used: false,
      charge_status: 'unknown',
      card: newCard(ctx, { number, name, expirationMonth: month, expirationYear: year, customerId: null }),
      created_at: omiseTime(ctx.now),
      [TEST_CARD_NUMBER]: number,
    };
    this.#save(token);
    return this.retrieve('token', id);
  }

  /** Uses a token once, as Omise does; returns its card and the card number behind it. */
  #useToken(tokenId: string): { card: OmiseCard; number: string } {
    const token = this.#find<JsonObject & { id: string; used: boolean; card: OmiseCard }>('token', tokenId);
    if (token.used) throw new FakeOmiseError(400, 'used_token', 'token was already used');
    this.#save({ ...token, used: true });
    return { card: token.card, number: String(token[TEST_CARD_NUMBER] ?? '') };
  }

  // -------------------------------------------------------------------------------------------
  // Charges

  /** `POST /charges`: with a card token, a customer (its default card, or `card`), or a `source[type]`. */
  createCharge(params: Params): OmiseCharge {
    const amount = integerParam(params, 'amount', { required: true, code: 'invalid_charge' }) as number;
    const currency = currencyParam(params, 'invalid_charge');
    if (amount < minimumAmount(currency)) {
      throw new FakeOmiseError(400, 'invalid_charge', `amount must be at least ${minimumAmount(currency)}`);
    }
    const ctx = this.#ctx(currency);
    const capture = booleanParam(params, 'capture', true);
    const customerId = textParam(params, 'customer');
    const cardParam = textParam(params, 'card');
    const source = objectParam(params, 'source');
    const common = {
      amount,
      currency,
      capture,
      description: textParam(params, 'description') ?? null,
      metadata: metadataParam(params) ?? {},
      returnUri: textParam(params, 'return_uri') ?? null,
    };
    let charge: OmiseCharge;
    if (source) {
      const type = textParam(source, 'type');
      if (!type) throw new FakeOmiseError(400, 'invalid_source', 'source[type] is required, e.g. promptpay');
      const created = newPromptPaySource(ctx, amount, currency);
      created.type = type;
      created.flow = type === 'promptpay' || type.startsWith('bill_payment') ? 'offline' : 'redirect';
      charge = newCharge(ctx, { ...common, source: created, customer: null });
    } else if (cardParam?.startsWith('tokn_')) {
      const { card, number } = this.#useToken(cardParam);
      charge = newCharge(ctx, { ...common, card, failure: FAILING_TEST_CARDS[number] ?? null });
    } else if (customerId) {
      const customer = this.#find<OmiseCustomer>('customer', customerId);
      const cardId = cardParam ?? customer.default_card;
      const card = customer.cards.data.find((candidate) => candidate.id === cardId);
      if (!card) {
        throw cardParam
          ? new FakeOmiseError(404, 'not_found', `card ${cardParam} was not found`)
          : new FakeOmiseError(400, 'missing_card', `customer ${customerId} has no card to charge`);
      }
      charge = newCharge(ctx, { ...common, card, customer: customerId });
    } else {
      throw new FakeOmiseError(
        400,
        'missing_card',
        'request contains no card parameters: send card (a token), customer, or source[type]',
      );
    }
    this.#save(charge);
    this.#emit('charge.create', charge);
    return charge;
  }

  /** `PATCH /charges/:id`: description and metadata. */
  updateCharge(id: string, params: Params): OmiseCharge {
    const charge = updateCharge(this.#find<OmiseCharge>('charge', id), {
      ...(textParam(params, 'description') !== undefined ? { description: textParam(params, 'description') } : {}),
    });
    const metadata = metadataParam(params);
    if (metadata) charge.metadata = metadata;
    this.#save(charge);
    this.#emit('charge.update', charge);
    return charge;
  }

  /** `POST /charges/:id/capture`: only an authorized, uncaptured charge. */
  captureCharge(id: string): OmiseCharge {
    const charge = this.#find<OmiseCharge>('charge', id);
    if (charge.paid) throw new FakeOmiseError(400, 'failed_capture', `charge ${id} was already captured`);
    if (!charge.authorized || charge.status !== 'pending') {
      throw new FakeOmiseError(400, 'failed_capture', `charge ${id} is not authorized (status ${charge.status})`);
    }
    const captured = this.#save(captureCharge(this.#ctx(charge.currency), charge));
    this.#emit('charge.capture', captured);
    return captured;
  }

  /** `POST /charges/:id/reverse`: releases an authorized, uncaptured charge. */
  reverseCharge(id: string): OmiseCharge {
    const charge = this.#find<OmiseCharge>('charge', id);
    if (!charge.authorized || charge.paid || charge.status !== 'pending') {
      throw new FakeOmiseError(
        400,
        'failed_reverse',
        `charge ${id} cannot be reversed: only an authorized, uncaptured charge can (status ${charge.status})`,
      );
    }
    const reversed = this.#save(reverseCharge(this.#ctx(charge.currency), charge));
    this.#emit('charge.reverse', reversed);
    return reversed;
  }

  /** `POST /charges/:id/expire`: a pending charge that waits for the customer. */
  expireCharge(id: string): OmiseCharge {
    const charge = this.#find<OmiseCharge>('charge', id);
    if (charge.status !== 'pending' || charge.authorized) {
      throw new FakeOmiseError(400, 'failed_expire', `charge ${id} cannot be expired (status ${charge.status})`);
    }
    const expired = this.#save(expireCharge(this.#ctx(charge.currency), charge));
    this.#emit('charge.expire', expired);
    return expired;
  }

  /** Test-only `POST /charges/:id/mark_as_paid` / `mark_as_failed`: finish a charge that waits for the customer. */
  completeCharge(id: string, outcome: 'paid' | 'failed'): OmiseCharge {
    const charge = this.#find<OmiseCharge>('charge', id);
    if (charge.status !== 'pending' || charge.authorized) {
      throw new FakeOmiseError(
        400,
        'bad_request',
        `charge ${id} cannot be marked as ${outcome}: only a pending charge that waits for the customer (an offsite or 3-D Secure charge) can (status ${charge.status})`,
      );
    }
    const failure = outcome === 'failed' ? { code: 'payment_rejected', message: 'the payment was rejected' } : null;
    const completed = this.#save(completeCharge(this.#ctx(charge.currency), charge, failure));
    this.#emit('charge.complete', completed);
    return completed;
  }

  /** `POST /charges/:id/refunds`: all that is left, or `amount`. */
  createRefund(chargeId: string, params: Params): JsonObject {
    const charge = this.#find<OmiseCharge>('charge', chargeId);
    if (!charge.paid)
      throw new FakeOmiseError(
        400,
        'failed_refund',
        `charge ${chargeId} is not paid (status ${charge.status}), so it cannot be refunded`,
      );
    const left = charge.amount - (charge.refunded_amount ?? 0);
    const amount = integerParam(params, 'amount', { required: false, code: 'failed_refund' }) ?? left;
    if (amount < 1 || amount > left) {
      throw new FakeOmiseError(
        400,
        'failed_refund',
        `amount must be between 1 and ${left}, what is left to refund of charge ${chargeId}`,
      );
    }
    const ctx = this.#ctx(charge.currency);
    const refund = newRefund(ctx, charge, { amount, metadata: metadataParam(params) ?? {} });
    this.#save(chargeWithRefund(ctx, charge, refund));
    this.#save(refund);
    this.#emit('refund.create', refund);
    return refund as unknown as JsonObject;
  }

  // -------------------------------------------------------------------------------------------
  // Customers and cards

  #cardFromToken(ctx: SimulationContext, tokenId: string, customerId: string): OmiseCard {
    const { card } = this.#useToken(tokenId);
    return { ...card, location: `/customers/${customerId}/cards/${card.id}`, created_at: omiseTime(ctx.now) };
  }

  /** `POST /customers`, optionally saving a card from a token. */
  createCustomer(params: Params): OmiseCustomer {
    const ctx = this.#ctx();
    const id = this.#ids.next('cust');
    let customer = newCustomer(ctx, {
      id,
      withCard: false,
      email: textParam(params, 'email') ?? null,
      description: textParam(params, 'description') ?? null,
      metadata: metadataParam(params) ?? {},
    });
    const token = textParam(params, 'card');
    if (token) customer = addCustomerCard(ctx, customer, this.#cardFromToken(ctx, token, id));
    this.#save(customer);
    this.#emit('customer.create', customer);
    return customer;
  }

  /** `PATCH /customers/:id`. With `card` (a token) the card is added: `customer.update.card`. */
  updateCustomer(id: string, params: Params): OmiseCustomer {
    const ctx = this.#ctx();
    let customer = this.#find<OmiseCustomer>('customer', id);
    for (const field of ['email', 'description'] as const) {
      const value = textParam(params, field);
      if (value !== undefined) customer[field] = value;
    }
    const metadata = metadataParam(params);
    if (metadata) customer.metadata = metadata;
    const token = textParam(params, 'card');
    if (token) customer = addCustomerCard(ctx, customer, this.#cardFromToken(ctx, token, id));
    this.#save(customer);
    if (token) this.#emit('customer.update.card', customer);
    else this.#emit('customer.update', customer);
    return customer;
  }

  /** `DELETE /customers/:id`. */
  destroyCustomer(id: string): JsonObject {
    this.#find<OmiseCustomer>('customer', id);
    this.#state.deleteObject(id);
    const stub = deletedStub('customer', id);
    this.#emit('customer.destroy', stub);
    return stub as unknown as JsonObject;
  }

  #customerCard(customerId: string, cardId: string): { customer: OmiseCustomer; card: OmiseCard } {
    const customer = this.#find<OmiseCustomer>('customer', customerId);
    const card = customer.cards.data.find((candidate) => candidate.id === cardId);
    if (!card) throw new FakeOmiseError(404, 'not_found', `card ${cardId} was not found`);
    return { customer, card };
  }

  /** `GET /customers/:id/cards/:card`. */
  retrieveCard(customerId: string, cardId: string): OmiseCard {
    return this.#customerCard(customerId, cardId).card;
  }

  /** `PATCH /customers/:id/cards/:card`: name, expiry, address. */
  updateCard(customerId: string, cardId: string, params: Params): OmiseCard {
    const { customer, card } = this.#customerCard(customerId, cardId);
    const updated: OmiseCard = { ...card };
    const name = textParam(params, 'name');
    if (name !== undefined) updated.name = name;
    for (const field of ['city', 'postal_code'] as const) {
      const value = textParam(params, field);
      if (value !== undefined) updated[field] = value;
    }
    const month = integerParam(params, 'expiration_month', { required: false, code: 'invalid_card' });
    if (month !== undefined) updated.expiration_month = month;
    const year = integerParam(params, 'expiration_year', { required: false, code: 'invalid_card' });
    if (year !== undefined) updated.expiration_year = year;
    this.#save(replaceCustomerCard(this.#ctx(), customer, cardId, updated));
    this.#emit('card.update', updated);
    return updated;
  }

  /** `DELETE /customers/:id/cards/:card`. */
  destroyCard(customerId: string, cardId: string): JsonObject {
    const { customer } = this.#customerCard(customerId, cardId);
    this.#save(replaceCustomerCard(this.#ctx(), customer, cardId, null));
    const stub = deletedStub('card', cardId);
    this.#emit('card.destroy', stub);
    return stub as unknown as JsonObject;
  }

  // -------------------------------------------------------------------------------------------
  // Recipients and transfers

  /** `POST /recipients`. */
  createRecipient(params: Params): OmiseRecipient {
    const name = textParam(params, 'name');
    if (!name) throw new FakeOmiseError(400, 'bad_request', 'name is required');
    const type = textParam(params, 'type');
    if (type !== 'individual' && type !== 'corporation') {
      throw new FakeOmiseError(
        400,
        'bad_request',
        `type must be individual or corporation, got ${JSON.stringify(type ?? null)}`,
      );
    }
    const bank = objectParam(params, 'bank_account');
    const number = bank ? textParam(bank, 'number') : undefined;
    const holder = bank ? textParam(bank, 'name') : undefined;
    if (!number || !holder) {
      throw new FakeOmiseError(400, 'invalid_bank_account', 'bank_account[number] and bank_account[name] are required');
    }
    const recipient = newRecipient(this.#ctx(), {
      name,
      type,
      email: textParam(params, 'email') ?? null,
      description: textParam(params, 'description') ?? null,
      taxId: textParam(params, 'tax_id') ?? null,
      bankAccount: {
        number,
        name: holder,
        ...(bank && textParam(bank, 'brand') ? { brand: textParam(bank, 'brand') } : {}),
      },
    });
    this.#save(recipient);
    this.#emit('recipient.create', recipient);
    return recipient;
  }

  /** `PATCH /recipients/:id`. */
  updateRecipient(id: string, params: Params): OmiseRecipient {
    const recipient = updateRecipient(this.#find<OmiseRecipient>('recipient', id), {
      name: textParam(params, 'name'),
      email: textParam(params, 'email'),
      description: textParam(params, 'description'),
      tax_id: textParam(params, 'tax_id'),
    });
    this.#save(recipient);
    this.#emit('recipient.update', recipient);
    return recipient;
  }

  /** `DELETE /recipients/:id`. */
  destroyRecipient(id: string): JsonObject {
    this.#find<OmiseRecipient>('recipient', id);
    this.#state.deleteObject(id);
    const stub = deletedStub('recipient', id);
    this.#emit('recipient.destroy', stub);
    return stub as unknown as JsonObject;
  }

  /** Test-only `PATCH /recipients/:id/verify`. */
  verifyRecipient(id: string): OmiseRecipient {
    const recipient = this.#find<OmiseRecipient>('recipient', id);
    if (recipient.verified) throw new FakeOmiseError(422, 'bad_request', `recipient ${id} is already verified`);
    const verified = this.#save(verifyRecipient(this.#ctx(), recipient));
    this.#emit('recipient.verify', verified);
    return verified;
  }

  /** The recipient every test account has from sign-up: verified, active, the default. */
  #defaultRecipient(): OmiseRecipient {
    const existing = this.#state.defaultRecipientId;
    if (existing) return this.#find<OmiseRecipient>('recipient', existing);
    const ctx = this.#ctx();
    const recipient: OmiseRecipient = {
      ...newRecipient(ctx, { name: 'Default recipient (test account)', description: 'Created with the account' }),
      verified: true,
      active: true,
      default: true,
      verified_at: omiseTime(ctx.now),
      activated_at: omiseTime(ctx.now),
    };
    this.#save(recipient);
    this.#state.defaultRecipientId = recipient.id;
    return recipient;
  }

  /** `POST /transfers`: to `recipient`, or to the account's default recipient. */
  createTransfer(params: Params): OmiseTransfer {
    const amount = integerParam(params, 'amount', { required: true, code: 'bad_request' }) as number;
    if (amount < 1) throw new FakeOmiseError(400, 'bad_request', 'amount must be greater than 0');
    const recipientId = textParam(params, 'recipient');
    const recipient = recipientId ? this.#find<OmiseRecipient>('recipient', recipientId) : this.#defaultRecipient();
    const transfer = newTransfer(this.#ctx(), recipient, { amount });
    const metadata = metadataParam(params);
    if (metadata) transfer.metadata = metadata;
    this.#save(transfer);
    this.#emit('transfer.create', transfer);
    return transfer;
  }

  #unsentTransfer(id: string, action: string): OmiseTransfer {
    const transfer = this.#find<OmiseTransfer>('transfer', id);
    if (transfer.sent)
      throw new FakeOmiseError(400, 'bad_request', `transfer ${id} was already sent, so it cannot be ${action}`);
    return transfer;
  }

  /** `PATCH /transfers/:id`: the amount, before it is sent. */
  updateTransfer(id: string, params: Params): OmiseTransfer {
    const transfer = this.#unsentTransfer(id, 'updated');
    const amount = integerParam(params, 'amount', { required: false, code: 'bad_request' });
    const updated = updateTransfer(transfer, amount !== undefined ? { amount } : {});
    const metadata = metadataParam(params);
    if (metadata) updated.metadata = metadata;
    this.#save(updated);
    this.#emit('transfer.update', updated);
    return updated;
  }

  /** `DELETE /transfers/:id`, before it is sent. */
  destroyTransfer(id: string): JsonObject {
    this.#unsentTransfer(id, 'deleted');
    this.#state.deleteObject(id);
    const stub = deletedStub('transfer', id);
    this.#emit('transfer.destroy', stub);
    return stub as unknown as JsonObject;
  }

  /** Test-only `POST /transfers/:id/mark_as_sent`. */
  markTransferAsSent(id: string): OmiseTransfer {
    const sent = this.#save(sendTransfer(this.#ctx(), this.#unsentTransfer(id, 'marked as sent')));
    this.#emit('transfer.send', sent);
    return sent;
  }

  /** Test-only `POST /transfers/:id/mark_as_paid`: the transfer must have been sent. */
  markTransferAsPaid(id: string): OmiseTransfer {
    const transfer = this.#find<OmiseTransfer>('transfer', id);
    if (!transfer.sent)
      throw new FakeOmiseError(400, 'bad_request', `transfer ${id} has not been sent; mark it as sent first`);
    if (transfer.paid) throw new FakeOmiseError(400, 'bad_request', `transfer ${id} was already paid`);
    const paid = this.#save(payTransfer(this.#ctx(), transfer));
    this.#emit('transfer.pay', paid);
    return paid;
  }

  // -------------------------------------------------------------------------------------------
  // Schedules and links

  /** `POST /schedules`: a charge schedule (`charge[customer]`, `charge[amount]`), monthly on given days. */
  createSchedule(params: Params): OmiseSchedule {
    const every = integerParam(params, 'every', { required: true, code: 'bad_request' }) as number;
    const period = textParam(params, 'period');
    if (period !== 'day' && period !== 'week' && period !== 'month') {
      throw new FakeOmiseError(
        400,
        'bad_request',
        `period must be day, week or month, got ${JSON.stringify(period ?? null)}`,
      );
    }
    const endDate = textParam(params, 'end_date');
    if (!endDate || !/^\d{4}-\d{2}-\d{2}$/.test(endDate))
      throw new FakeOmiseError(400, 'bad_request', 'end_date is required, as YYYY-MM-DD');
    const charge = objectParam(params, 'charge');
    const customerId = charge ? textParam(charge, 'customer') : undefined;
    if (!charge || !customerId)
      throw new FakeOmiseError(400, 'bad_request', 'charge[customer] and charge[amount] are required');
    const customer = this.#find<OmiseCustomer>('customer', customerId);
    const amount = integerParam(charge, 'amount', { required: true, code: 'bad_request' }) as number;
    const currency = (textParam(charge, 'currency') ?? 'THB').toUpperCase();
    const on = objectParam(params, 'on') ?? {};
    const days = Array.isArray(on.days_of_month) ? on.days_of_month.map(Number) : [];
    const startDate = textParam(params, 'start_date');
    const schedule = newSchedule(this.#ctx(currency), {
      customer: { id: customer.id, default_card: textParam(charge, 'card') ?? customer.default_card },
      amount,
      currency,
      ...(days[0] ? { dayOfMonth: days[0] } : {}),
      ...(startDate ? { startOn: startDate } : {}),
    });
    schedule.every = every;
    schedule.period = period;
    schedule.end_on = endDate;
    if (period !== 'month' || days.length === 0) {
      schedule.on = period === 'week' && Array.isArray(on.weekdays) ? { weekdays: on.weekdays.map(String) } : {};
      schedule.in_words = `Every ${every} ${period}(s)`;
    }
    const description = textParam(charge, 'description');
    if (description !== undefined && schedule.charge) schedule.charge.description = description;
    this.#save(schedule);
    this.#emit('schedule.create', schedule);
    return schedule;
  }

  /** `DELETE /schedules/:id`: the schedule stops; Omise sends the whole schedule, marked deleted. */
  destroySchedule(id: string): OmiseSchedule {
    const schedule = this.#find<OmiseSchedule>('schedule', id);
    if (schedule.deleted) throw new FakeOmiseError(404, 'not_found', `schedule ${id} was not found`);
    const destroyed = destroyedSchedule(this.#ctx(), schedule);
    this.#save(destroyed);
    this.#emit('schedule.destroy', destroyed);
    return destroyed;
  }

  /** `POST /links`: a payment page. */
  createLink(params: Params): JsonObject {
    const amount = integerParam(params, 'amount', { required: true, code: 'invalid_link' }) as number;
    const currency = currencyParam(params, 'invalid_link');
    if (amount < minimumAmount(currency))
      throw new FakeOmiseError(400, 'invalid_link', `amount must be at least ${minimumAmount(currency)}`);
    const title = textParam(params, 'title');
    const description = textParam(params, 'description');
    if (!title || !description) throw new FakeOmiseError(400, 'invalid_link', 'title and description are required');
    const link = newLink(this.#ctx(currency), {
      amount,
      currency,
      title,
      description,
      multiple: booleanParam(params, 'multiple', false),
    });
    this.#save(link);
    this.#emit('link.create', link);
    return link as unknown as JsonObject;
  }
}
