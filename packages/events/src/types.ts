// Shapes of the Omise objects that events carry, from Omise's API reference and the test data in
// Omise's own SDKs. Omise has changed shapes across API versions (`created` became `created_at`
// in 2019-05-29; newer fields such as `status` on charges appeared over time), so a field that
// some versions lack is optional, and a field Omise writes as `null` says so.

import type { OmiseEventKey } from './event-catalogue.js';

/**
 * Free-form key/value data a merchant attached to an object.
 *
 * @example
 * ```ts
 * const metadata: OmiseMetadata = { order_id: '3947', note: 'ทดสอบ' };
 * ```
 */
export type OmiseMetadata = Record<string, unknown>;

/**
 * A page of objects, as Omise nests them (`refunds`, `cards`, `charges`, `occurrences`).
 *
 * @example
 * ```ts
 * const refunds: OmiseList<OmiseRefund> = charge.refunds;
 * console.log(`${refunds.total} refunds, showing ${refunds.data.length}`);
 * ```
 */
export interface OmiseList<T> {
  object: 'list';
  /** ISO 8601 lower bound of the page's creation time. */
  from: string;
  /** ISO 8601 upper bound of the page's creation time. */
  to: string;
  offset: number;
  limit: number;
  total: number;
  /** Missing or `null` in older API versions. */
  order?: 'chronological' | 'reverse_chronological' | null;
  /** Missing in some older nested lists. */
  location?: string | null;
  data: T[];
}

/**
 * What `data` holds in a `*.destroy` event: the object is gone, so only a stub remains.
 *
 * @example
 * ```ts
 * const stub: OmiseDeletedObject<'customer'> = {
 *   object: 'customer', id: 'cust_test_5xyz', livemode: false, deleted: true,
 * };
 * ```
 */
export interface OmiseDeletedObject<O extends string> {
  object: O;
  id: string;
  livemode: boolean;
  deleted: true;
}

/** Fields every Omise object has; `created`/`created_at` depend on the API version. */
interface OmiseObjectBase<O extends string> {
  object: O;
  id: string;
  livemode: boolean;
  location: string;
  /** ISO 8601; API versions since 2019-05-29. */
  created_at?: string;
  /** ISO 8601; API versions before 2019-05-29. */
  created?: string;
}

/**
 * A card stored on a customer or used for a charge. Never contains the card number.
 *
 * @example
 * ```ts
 * const label = `${card.brand} •••• ${card.last_digits}`;
 * ```
 */
export interface OmiseCard extends Omit<OmiseObjectBase<'card'>, 'location'> {
  /** Missing or `null` on cards embedded in a charge made from a token. */
  location?: string | null;
  deleted?: boolean;
  /** ISO 3166 alpha-2, lowercase, or `''` when unknown. */
  country: string;
  city: string | null;
  postal_code: string | null;
  state?: string | null;
  street1?: string | null;
  street2?: string | null;
  phone_number?: string | null;
  /** `credit`, `debit`, `prepaid` or `''`. */
  financing: string;
  bank: string;
  brand: string;
  first_digits?: string | null;
  last_digits: string;
  name: string | null;
  expiration_month: number;
  expiration_year: number;
  fingerprint: string;
  security_code_check: boolean;
  tokenization_method?: string | null;
}

/**
 * The payment method of a non-card charge (PromptPay, internet banking, convenience stores, ...).
 *
 * @example
 * ```ts
 * if (charge.source?.type === 'promptpay') showQrCode(charge.source);
 * ```
 */
export interface OmiseSource {
  object: 'source';
  id: string;
  livemode?: boolean;
  location?: string;
  /** For example `promptpay`, `internet_banking_scb`, `truemoney`, `bill_payment_tesco_lotus`. */
  type: string;
  /** `redirect`, `offline` or `app_redirect`. */
  flow: string;
  amount: number;
  currency: string;
  charge_status?: string;
  email?: string | null;
  name?: string | null;
  phone_number?: string | null;
  mobile_number?: string | null;
  installment_term?: number | null;
  references?: Record<string, unknown> | null;
  scannable_code?: Record<string, unknown> | null;
  created_at?: string;
}

/**
 * A refund of all or part of a charge.
 *
 * @example
 * ```ts
 * console.log(`refunded ${refund.amount} ${refund.currency} of ${refund.charge}`);
 * ```
 */
export interface OmiseRefund extends Omit<OmiseObjectBase<'refund'>, 'livemode'> {
  /** Missing in responses from API versions before 2017. */
  livemode?: boolean;
  amount: number;
  currency: string;
  /** The id of the refunded charge. */
  charge: string;
  transaction: string;
  voided?: boolean;
  status?: string;
  funding_amount?: number;
  funding_currency?: string;
  metadata?: OmiseMetadata;
}

/**
 * A payment. The object of every `charge.*` event.
 *
 * @example
 * ```ts
 * if (charge.status === 'successful' && charge.paid) fulfil(charge.metadata);
 * ```
 */
export interface OmiseCharge extends OmiseObjectBase<'charge'> {
  /** In the smallest unit of the currency (satang for THB, yen for JPY). */
  amount: number;
  currency: string;
  description: string | null;
  metadata?: OmiseMetadata;
  /** Missing in API versions before 2017-11-02, where `paid` and `reversed` tell the story. */
  status?: 'failed' | 'reversed' | 'expired' | 'pending' | 'successful';
  /** `false` when the charge was only authorized, to be captured later. */
  capture: boolean;
  authorized: boolean;
  /** Older API versions. */
  captured?: boolean;
  reversed?: boolean;
  paid?: boolean;
  expired?: boolean;
  voided?: boolean;
  capturable?: boolean;
  disputable?: boolean;
  refundable?: boolean;
  reversible?: boolean;
  authorization_type?: 'pre_auth' | 'final_auth' | null;
  authorized_amount?: number;
  captured_amount?: number;
  /** `3DS` or `PASSKEY` when the customer had to authenticate. */
  authentication?: string | null;
  authenticated_by?: string | null;
  /** The transaction id, or the expanded transaction. */
  transaction: string | Record<string, unknown> | null;
  source_of_fund?: string;
  /** Refunded amount in older API versions. */
  refunded?: number;
  /** Refunded amount in newer API versions. */
  refunded_amount?: number;
  refunds?: OmiseList<OmiseRefund>;
  fee?: number;
  fee_vat?: number;
  interest?: number;
  interest_vat?: number;
  net?: number;
  funding_amount?: number;
  funding_currency?: string;
  platform_fee?: { fixed: number | null; amount: number | null; percentage: number | null };
  /** Where the customer returns after 3-D Secure or an offsite payment. */
  return_uri: string | null;
  /** Where to send the customer to authenticate or pay; `null` when nothing is needed. */
  authorize_uri: string | null;
  offsite?: string | null;
  reference?: string | null;
  failure_code: string | null;
  failure_message: string | null;
  card: OmiseCard | null;
  source?: OmiseSource | null;
  /** The customer id, or the expanded customer. */
  customer: string | OmiseCustomer | null;
  ip: string | null;
  /** The dispute id, or the expanded dispute. */
  dispute: string | OmiseDispute | null;
  link?: string | null;
  schedule?: string | null;
  paid_at?: string | null;
  expires_at?: string | null;
  expired_at?: string | null;
  reversed_at?: string | null;
  zero_interest_installments?: boolean;
  installment_terms?: number | null;
}

/**
 * A saved customer and their cards.
 *
 * @example
 * ```ts
 * const cardCount = customer.cards.total;
 * ```
 */
export interface OmiseCustomer extends OmiseObjectBase<'customer'> {
  /** The id of the card charged when none is named. */
  default_card: string | null;
  email: string | null;
  description: string | null;
  metadata?: OmiseMetadata;
  cards: OmiseList<OmiseCard>;
  deleted?: boolean;
}

/**
 * A file of evidence attached to a dispute.
 *
 * @example
 * ```ts
 * const names = dispute.documents?.data.map((document: OmiseDocument) => document.filename);
 * ```
 */
export interface OmiseDocument extends OmiseObjectBase<'document'> {
  filename: string;
  deleted?: boolean;
  download_uri?: string;
}

/**
 * A chargeback raised by the cardholder's bank against a charge.
 *
 * @example
 * ```ts
 * if (dispute.status === 'open') remind(`answer dispute ${dispute.id} for ${dispute.charge}`);
 * ```
 */
export interface OmiseDispute extends OmiseObjectBase<'dispute'> {
  amount: number;
  currency: string;
  status: 'open' | 'pending' | 'won' | 'lost' | 'closed';
  /** The merchant's answer. */
  message: string | null;
  admin_message?: string | null;
  reason_code?: string;
  reason_message?: string;
  /** The charge id, or the expanded charge. */
  charge: string | OmiseCharge;
  transaction?: string | null;
  documents?: OmiseList<OmiseDocument>;
  funding_amount?: number;
  funding_currency?: string;
  metadata?: OmiseMetadata;
  closed_at?: string | null;
}

/**
 * The bank account a recipient is paid into.
 *
 * @example
 * ```ts
 * const where = `${account.brand} ${account.last_digits} (${account.name})`;
 * ```
 */
export interface OmiseBankAccount {
  object: 'bank_account';
  /** The bank's short code, for example `bbl`, `kbank`, `scb`, or `test`. */
  brand: string;
  last_digits: string;
  name: string;
  bank_code?: string;
  branch_code?: string;
  account_type?: string;
  created_at?: string;
  created?: string;
}

/**
 * Someone the merchant transfers money to.
 *
 * @example
 * ```ts
 * if (recipient.verified && recipient.active) scheduleTransfer(recipient.id);
 * ```
 */
export interface OmiseRecipient extends OmiseObjectBase<'recipient'> {
  verified: boolean;
  active: boolean;
  verified_at?: string | null;
  activated_at?: string | null;
  default?: boolean;
  deleted?: boolean;
  name: string;
  email: string | null;
  description: string | null;
  type: 'individual' | 'corporation';
  tax_id: string | null;
  bank_account: OmiseBankAccount;
  failure_code: string | null;
  metadata?: OmiseMetadata;
  schedule?: string | null;
}

/**
 * A payout from the merchant's balance to a recipient's bank account.
 *
 * @example
 * ```ts
 * if (transfer.failure_code) alert(`transfer ${transfer.id} failed: ${transfer.failure_message}`);
 * ```
 */
export interface OmiseTransfer extends OmiseObjectBase<'transfer'> {
  /** The recipient id. */
  recipient: string;
  bank_account: OmiseBankAccount;
  sendable?: boolean;
  sent: boolean;
  sent_at?: string | null;
  paid: boolean;
  paid_at?: string | null;
  amount: number;
  currency: string;
  fee?: number;
  fee_vat?: number;
  total_fee?: number;
  net?: number;
  fail_fast?: boolean;
  failure_code: string | null;
  failure_message: string | null;
  transaction: string | null;
  schedule?: string | null;
  deleted?: boolean;
  metadata?: OmiseMetadata;
}

/**
 * One run of a schedule.
 *
 * @example
 * ```ts
 * const failed = schedule.occurrences.data.filter((o: OmiseOccurrence) => o.status === 'failed');
 * ```
 */
export interface OmiseOccurrence extends Omit<OmiseObjectBase<'occurrence'>, 'livemode'> {
  livemode?: boolean;
  schedule?: string;
  schedule_date?: string;
  retry_date?: string | null;
  processed_at?: string | null;
  /** For example `successful`, `failed` or `skipped`. */
  status?: string;
  message?: string | null;
  /** The id of the charge or transfer this run made. */
  result?: string | null;
}

/**
 * A recurring charge or transfer.
 *
 * @example
 * ```ts
 * console.log(`${schedule.in_words}, next on ${schedule.next_occurrences_on?.[0]}`);
 * ```
 */
export interface OmiseSchedule extends OmiseObjectBase<'schedule'> {
  status: 'active' | 'expiring' | 'expired' | 'deleted' | 'suspended';
  active?: boolean;
  deleted?: boolean;
  every: number;
  period: 'day' | 'week' | 'month';
  on: { weekdays?: string[]; days_of_month?: number[]; weekday_of_month?: string };
  /** For example `Every 1 month(s) on the 15th`. */
  in_words: string;
  /** `YYYY-MM-DD`; older API versions. */
  start_date?: string;
  end_date?: string;
  /** `YYYY-MM-DD`; newer API versions. */
  start_on?: string;
  end_on?: string;
  ended_at?: string | null;
  charge?: {
    amount: number;
    currency: string;
    description?: string | null;
    customer: string;
    card?: string | null;
    default_card?: boolean;
    metadata?: OmiseMetadata;
  } | null;
  transfer?: {
    recipient: string;
    amount?: number | null;
    currency?: string;
    percentage_of_balance?: number | null;
  } | null;
  occurrences: OmiseList<OmiseOccurrence>;
  /** Older API versions. */
  next_occurrences?: string[];
  /** Newer API versions. */
  next_occurrences_on?: string[];
}

/**
 * A payment link: a hosted page where customers pay a fixed amount.
 *
 * @example
 * ```ts
 * share(link.payment_uri);
 * ```
 */
export interface OmiseLink extends OmiseObjectBase<'link'> {
  amount: number;
  currency: string;
  used: boolean;
  multiple: boolean;
  title: string;
  description: string;
  charges: OmiseList<OmiseCharge>;
  payment_uri: string;
  used_at?: string | null;
  deleted?: boolean;
  deleted_at?: string | null;
  metadata?: OmiseMetadata;
}

/**
 * One attempt Omise made to deliver an event, as `GET /events/:id` reports it.
 *
 * @example
 * ```ts
 * for (const delivery of event.webhook_deliveries ?? []) console.log(delivery.uri, delivery.status);
 * ```
 */
export interface OmiseWebhookDelivery {
  object: 'webhook_delivery';
  id: string;
  uri: string;
  /** The HTTP status the endpoint answered, or 0 when it could not be reached. */
  status: number;
  key: string;
  error?: string | null;
  /** The exact body that was sent. */
  payload?: string;
  /** For example `2023-03-02 10:27:09 UTC`. */
  created_at: string;
}

/**
 * The envelope every webhook body is: an `event` object whose `data` is the object it is about.
 *
 * Widen an event to this type to read an unknown event's data honestly, as `unknown`.
 *
 * @example
 * ```ts
 * const envelope: OmiseEventEnvelope = parseOmiseEvent(body);
 * envelope.data; // unknown
 * ```
 */
export interface OmiseEventEnvelope<K extends string = string, D = unknown> {
  object: 'event';
  id: string;
  livemode: boolean;
  location: string;
  key: K;
  /** ISO 8601; API versions since 2019-05-29. */
  created_at?: string;
  /** ISO 8601; API versions before 2019-05-29. */
  created?: string;
  webhook_deliveries?: OmiseWebhookDelivery[];
  data: D;
}

/**
 * What `data` holds for each known event key.
 *
 * @example
 * ```ts
 * type RefundData = OmiseEventDataMap['refund.create']; // OmiseRefund
 * ```
 */
export interface OmiseEventDataMap {
  'charge.create': OmiseCharge;
  'charge.update': OmiseCharge;
  'charge.capture': OmiseCharge;
  'charge.reverse': OmiseCharge;
  'charge.complete': OmiseCharge;
  'charge.expire': OmiseCharge;
  'customer.create': OmiseCustomer;
  'customer.update': OmiseCustomer;
  'customer.destroy': OmiseDeletedObject<'customer'>;
  'customer.update.card': OmiseCustomer;
  'card.update': OmiseCard;
  'card.destroy': OmiseDeletedObject<'card'>;
  'dispute.create': OmiseDispute;
  'dispute.update': OmiseDispute;
  'dispute.accept': OmiseDispute;
  'dispute.close': OmiseDispute;
  'link.create': OmiseLink;
  'recipient.create': OmiseRecipient;
  'recipient.update': OmiseRecipient;
  'recipient.destroy': OmiseDeletedObject<'recipient'>;
  'recipient.activate': OmiseRecipient;
  'recipient.deactivate': OmiseRecipient;
  'recipient.verify': OmiseRecipient;
  'refund.create': OmiseRefund;
  'schedule.create': OmiseSchedule;
  'schedule.destroy': OmiseSchedule;
  'schedule.expire': OmiseSchedule;
  'schedule.expiring': OmiseSchedule;
  'schedule.suspend': OmiseSchedule;
  'transfer.create': OmiseTransfer;
  'transfer.update': OmiseTransfer;
  'transfer.destroy': OmiseDeletedObject<'transfer'>;
  'transfer.send': OmiseTransfer;
  'transfer.pay': OmiseTransfer;
  'transfer.fail': OmiseTransfer;
}

/**
 * An event with a known key, as a union discriminated on `key`.
 *
 * @example
 * ```ts
 * function amountOf(event: KnownOmiseEvent<'charge.create' | 'charge.complete'>): number {
 *   return event.data.amount;
 * }
 * ```
 */
export type KnownOmiseEvent<K extends OmiseEventKey = OmiseEventKey> = {
  [P in K]: OmiseEventEnvelope<P, OmiseEventDataMap[P]>;
}[K];

/**
 * An event whose key this library does not know (Omise adds keys without notice).
 *
 * Two choices here are deliberate, because TypeScript cannot express "any string except the 35
 * known keys":
 * - `key` is `string`, not `string & {}`. With `string & {}`, a check such as
 *   `event.key === 'charge.complete'` narrows nothing at all (every known member stays
 *   "comparable"); with `string`, it removes every other known member.
 * - `data` is `never`, not `unknown`. This member always survives such a check, so its `data`
 *   joins the narrowed one: `OmiseCharge | unknown` is `unknown`, while `OmiseCharge | never` is
 *   `OmiseCharge`.
 *
 * To read an unknown event's data, widen it: through {@link OmiseEventEnvelope}, `data` is `unknown`.
 *
 * @example
 * ```ts
 * if (!isKnownOmiseEvent(event)) {
 *   const envelope: OmiseEventEnvelope = event;
 *   store(envelope.key, envelope.data); // data: unknown
 * }
 * ```
 */
export type UnknownOmiseEvent = OmiseEventEnvelope<string, never>;

/**
 * Any event {@link parseOmiseEvent} can return: a known one, narrowed by `key`, or an unknown one.
 *
 * @example
 * ```ts
 * const event: OmiseEvent = parseOmiseEvent(body);
 * if (event.key === 'charge.complete') {
 *   console.log(event.data.amount, event.data.status); // event.data is OmiseCharge
 * }
 * ```
 */
export type OmiseEvent = KnownOmiseEvent | UnknownOmiseEvent;
