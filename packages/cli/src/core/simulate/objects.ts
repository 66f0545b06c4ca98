/**
 * Omise objects (charges, customers, cards, refunds, ...) and the changes of state that cause
 * events, as pure functions. The event builders (`trigger`) and the fake Omise API both use them,
 * so a simulated `charge.capture` and one caused through the fake API look the same.
 *
 * Shapes follow Omise's current API version (2019-05-29: `created_at`, upper-case currencies)
 * and the objects in Omise's own documentation and SDK test data.
 */
import type {
  OmiseBankAccount,
  OmiseCard,
  OmiseCharge,
  OmiseCustomer,
  OmiseDeletedObject,
  OmiseDispute,
  OmiseLink,
  OmiseList,
  OmiseMetadata,
  OmiseRecipient,
  OmiseRefund,
  OmiseSchedule,
  OmiseSource,
  OmiseTransfer,
} from '@omise-webhook/events';
import { type IdSource, omiseDate, omiseTime, pseudoRandomText } from './ids.js';

/** THB amounts are in satang (1/100 baht); JPY has no minor unit, so amounts are in yen. */
export type SimulatedCurrency = 'THB' | 'JPY';

/** Everything a factory needs: where ids come from, what time it is, which currency to use. */
export interface SimulationContext {
  ids: IdSource;
  /** Milliseconds since the epoch. */
  now: number;
  currency: SimulatedCurrency;
}

const DAY_MS = 86_400_000;
const EPOCH = '1970-01-01T00:00:00Z';
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * An amount that makes sense in the currency: given in satang, converted at about 4 yen per baht
 * and rounded to 10 yen for JPY (`129000` satang = 1,290.00 THB = 5,160 JPY).
 */
export function amountIn(currency: string, satang: number): number {
  if (currency.toUpperCase() === 'JPY') return Math.round((satang / 100) * 0.4) * 10;
  return satang;
}

/** Omise's fee in Thailand (3.65%) plus 7% VAT on the fee; Japan quotes fees with tax included. */
function feesFor(amount: number, currency: string): { fee: number; fee_vat: number; net: number } {
  const fee = Math.round(amount * 0.0365);
  const feeVat = currency.toUpperCase() === 'THB' ? Math.round(fee * 0.07) : 0;
  return { fee, fee_vat: feeVat, net: amount - fee - feeVat };
}

/** A nested list the way Omise embeds one (`refunds`, `cards`, `charges`, `occurrences`). */
export function omiseList<T>(location: string, data: T[], now: number): OmiseList<T> {
  return {
    object: 'list',
    data,
    limit: 20,
    offset: 0,
    total: data.length,
    location,
    order: 'chronological',
    from: EPOCH,
    to: omiseTime(now),
  };
}

/** What a `*.destroy` event carries: the object is gone, only a stub remains. */
export function deletedStub<O extends string>(object: O, id: string): OmiseDeletedObject<O> {
  return { object, id, livemode: false, deleted: true };
}

function isThai(ctx: SimulationContext): boolean {
  return ctx.currency === 'THB';
}

// ---------------------------------------------------------------------------------------------
// Cards and customers

export interface CardInput {
  id?: string;
  /** The customer the card belongs to; `null` for a card used once through a token. */
  customerId?: string | null;
  /** A test card number (4242424242424242, 5555555555554444, ...); only its brand and last digits are kept. */
  number?: string;
  name?: string;
  expirationMonth?: number;
  expirationYear?: number;
}

function brandOf(number: string): string {
  if (number.startsWith('4')) return 'Visa';
  if (/^(5[1-5]|2[2-7])/.test(number)) return 'MasterCard';
  if (number.startsWith('35')) return 'JCB';
  if (/^3[47]/.test(number)) return 'American Express';
  return 'Unknown';
}

/**
 * A card. A customer's card lives at `/customers/<customer>/cards/<card>`; a card used once through
 * a token has no location of its own.
 */
export function newCard(ctx: SimulationContext, input: CardInput = {}): OmiseCard {
  const id = input.id ?? ctx.ids.next('card');
  const number = input.number ?? '4242424242424242';
  const customerId = input.customerId ?? null;
  const thai = isThai(ctx);
  return {
    object: 'card',
    id,
    livemode: false,
    location: customerId ? `/customers/${customerId}/cards/${id}` : null,
    deleted: false,
    street1: null,
    street2: null,
    city: thai ? 'Bangkok' : 'Tokyo',
    state: null,
    phone_number: null,
    postal_code: thai ? '10320' : '150-0002',
    country: thai ? 'th' : 'jp',
    financing: 'credit',
    bank: thai ? 'Bangkok Bank' : 'MUFG Bank',
    brand: brandOf(number),
    // A base64 SHA-256 shape: 42 free characters, one of the 16 a 32-byte value can end with, then `=`.
    fingerprint: `${pseudoRandomText(`${id}:${number}`, BASE64_ALPHABET, 42)}${pseudoRandomText(id, 'AEIMQUYcgkosw048', 1)}=`,
    first_digits: null,
    last_digits: number.slice(-4),
    name: input.name ?? (thai ? 'SOMCHAI PRASERT' : 'HANAKO YAMADA'),
    expiration_month: input.expirationMonth ?? 12,
    expiration_year: input.expirationYear ?? new Date(ctx.now).getUTCFullYear() + 3,
    security_code_check: true,
    tokenization_method: null,
    created_at: omiseTime(ctx.now),
  };
}

export interface CustomerInput {
  id?: string;
  email?: string | null;
  description?: string | null;
  metadata?: OmiseMetadata;
  /** Give the customer one saved card (the default). Default true. */
  withCard?: boolean;
  card?: CardInput;
}

/** A customer, by default with one saved card that is also its default card. */
export function newCustomer(ctx: SimulationContext, input: CustomerInput = {}): OmiseCustomer {
  const id = input.id ?? ctx.ids.next('cust');
  const cards = input.withCard === false ? [] : [newCard(ctx, { ...input.card, customerId: id })];
  const thai = isThai(ctx);
  return {
    object: 'customer',
    id,
    livemode: false,
    location: `/customers/${id}`,
    deleted: false,
    metadata: input.metadata ?? { member_since: String(new Date(ctx.now).getUTCFullYear()) },
    cards: omiseList(`/customers/${id}/cards`, cards, ctx.now),
    default_card: cards[0]?.id ?? null,
    description: input.description ?? (thai ? 'สมาชิก (ทดสอบ)' : '会員（テスト）'),
    email: input.email ?? (thai ? 'somchai.prasert@example.co.th' : 'hanako.yamada@example.jp'),
    created_at: omiseTime(ctx.now),
  };
}

/** The customer with a card added (and made the default when it has none). */
export function addCustomerCard(ctx: SimulationContext, customer: OmiseCustomer, card: OmiseCard): OmiseCustomer {
  const cards = [...customer.cards.data, card];
  return {
    ...customer,
    cards: omiseList(`/customers/${customer.id}/cards`, cards, ctx.now),
    default_card: customer.default_card ?? card.id,
  };
}

/** The customer with one of its cards replaced (after `card.update`) or removed (`card.destroy`). */
export function replaceCustomerCard(
  ctx: SimulationContext,
  customer: OmiseCustomer,
  cardId: string,
  replacement: OmiseCard | null,
): OmiseCustomer {
  const cards = customer.cards.data.flatMap((card) => (card.id !== cardId ? [card] : replacement ? [replacement] : []));
  const defaultCard =
    customer.default_card === cardId && replacement === null ? (cards[0]?.id ?? null) : customer.default_card;
  return {
    ...customer,
    cards: omiseList(`/customers/${customer.id}/cards`, cards, ctx.now),
    default_card: defaultCard,
  };
}

// ---------------------------------------------------------------------------------------------
// Charges and refunds

/** Test cards Omise documents as declined, with the failure they produce. */
export const FAILING_TEST_CARDS: Readonly<Record<string, { code: string; message: string }>> = {
  '4111111111140011': {
    code: 'insufficient_fund',
    message: 'insufficient funds in the account or the card has reached the credit limit',
  },
  '4111111111130012': { code: 'stolen_or_lost_card', message: 'card was reported as stolen or lost' },
  '4111111111120013': { code: 'failed_processing', message: 'the payment could not be processed' },
  '4111111111110014': { code: 'payment_rejected', message: 'the payment was rejected by the issuer' },
};

export interface ChargeInput {
  id?: string;
  amount?: number;
  currency?: string;
  description?: string | null;
  metadata?: OmiseMetadata;
  /** `false` only authorizes the charge, to be captured or reversed later. Default true. */
  capture?: boolean;
  card?: OmiseCard | null;
  customer?: string | null;
  /** A non-card payment method (PromptPay, internet banking): the charge waits for the customer. */
  source?: OmiseSource | null;
  /** The card needs 3-D Secure: the charge waits until the customer authenticates. */
  threeDSecure?: boolean;
  returnUri?: string | null;
  failure?: { code: string; message: string } | null;
  schedule?: string | null;
  link?: string | null;
}

/** A PromptPay source: an offline QR payment that stays pending until paid or expired. */
export function newPromptPaySource(ctx: SimulationContext, amount: number, currency: string): OmiseSource {
  const id = ctx.ids.next('src');
  return {
    object: 'source',
    id,
    livemode: false,
    location: `/sources/${id}`,
    type: 'promptpay',
    flow: 'offline',
    amount,
    currency,
    charge_status: 'pending',
    created_at: omiseTime(ctx.now),
  };
}

/**
 * A new charge in the state Omise creates it in: `successful` for a card charge captured at once,
 * `pending` when only authorized, waiting for 3-D Secure, or paid offsite, `failed` for a declined card.
 */
export function newCharge(ctx: SimulationContext, input: ChargeInput = {}): OmiseCharge {
  const id = input.id ?? ctx.ids.next('chrg');
  const currency = (input.currency ?? ctx.currency).toUpperCase();
  const amount = input.amount ?? amountIn(currency, 129000);
  const capture = input.capture ?? true;
  const source = input.source ?? null;
  const card = source
    ? null
    : input.card === undefined
      ? newCard(ctx, { customerId: input.customer ?? null })
      : input.card;
  const failure = input.failure ?? null;
  const waitsForCustomer = source !== null || input.threeDSecure === true;
  const authorizedNow = failure === null && !waitsForCustomer;
  const paidNow = authorizedNow && capture;
  const reference = ctx.ids.next('paym');
  const thai = currency === 'THB';
  const charge: OmiseCharge = {
    object: 'charge',
    id,
    livemode: false,
    location: `/charges/${id}`,
    amount,
    currency,
    description:
      input.description === undefined ? (thai ? 'ค่าสินค้า order 3947' : '注文 3947 のお支払い') : input.description,
    metadata: input.metadata ?? { order_id: '3947' },
    status: failure ? 'failed' : paidNow ? 'successful' : 'pending',
    capture,
    authorized: authorizedNow,
    reversed: false,
    paid: paidNow,
    expired: false,
    voided: false,
    capturable: authorizedNow && !capture,
    disputable: paidNow,
    refundable: paidNow,
    reversible: authorizedNow && !capture,
    authorization_type: null,
    authorized_amount: authorizedNow ? amount : 0,
    captured_amount: paidNow ? amount : 0,
    transaction: paidNow ? ctx.ids.next('trxn') : null,
    source_of_fund: 'card',
    refunded_amount: 0,
    refunds: omiseList(`/charges/${id}/refunds`, [], ctx.now),
    ...(paidNow ? feesFor(amount, currency) : { fee: 0, fee_vat: 0, net: 0 }),
    funding_amount: amount,
    funding_currency: currency,
    return_uri:
      input.returnUri === undefined
        ? waitsForCustomer
          ? 'https://shop.example.com/orders/3947/complete'
          : null
        : input.returnUri,
    authorize_uri: waitsForCustomer ? `https://pay.omise.co/payments/${reference}/authorize` : null,
    authentication: null,
    authenticated_by: null,
    reference,
    failure_code: failure?.code ?? null,
    failure_message: failure?.message ?? null,
    card,
    source,
    customer: input.customer ?? null,
    ip: '203.0.113.24',
    dispute: null,
    link: input.link ?? null,
    schedule: input.schedule ?? null,
    created_at: omiseTime(ctx.now),
    paid_at: paidNow ? omiseTime(ctx.now) : null,
    expires_at: omiseTime(ctx.now + (source ? DAY_MS : 7 * DAY_MS)),
    expired_at: null,
    reversed_at: null,
  };
  if (source) charge.source_of_fund = 'offsite';
  return charge;
}

function paid(ctx: SimulationContext, charge: OmiseCharge): OmiseCharge {
  return {
    ...charge,
    status: 'successful',
    authorized: true,
    paid: true,
    capturable: false,
    reversible: false,
    disputable: true,
    refundable: true,
    authorized_amount: charge.amount,
    captured_amount: charge.amount,
    transaction: typeof charge.transaction === 'string' ? charge.transaction : ctx.ids.next('trxn'),
    ...feesFor(charge.amount, charge.currency),
    failure_code: null,
    failure_message: null,
    paid_at: omiseTime(ctx.now),
  };
}

/** `charge.capture`: an authorized charge is captured: the money moves. */
export function captureCharge(ctx: SimulationContext, charge: OmiseCharge): OmiseCharge {
  return paid(ctx, charge);
}

/** `charge.reverse`: an authorized charge is released instead of captured. */
export function reverseCharge(ctx: SimulationContext, charge: OmiseCharge): OmiseCharge {
  return {
    ...charge,
    status: 'reversed',
    reversed: true,
    paid: false,
    capturable: false,
    reversible: false,
    refundable: false,
    disputable: false,
    reversed_at: omiseTime(ctx.now),
  };
}

/**
 * `charge.complete`: a charge that waited for the customer (3-D Secure, an offsite or offline
 * payment) is finished, successfully or, with `failure`, not.
 */
export function completeCharge(
  ctx: SimulationContext,
  charge: OmiseCharge,
  failure: { code: string; message: string } | null = null,
): OmiseCharge {
  const authentication = charge.card ? { authentication: '3DS', authenticated_by: 'ISSUER' } : {};
  if (failure) {
    return {
      ...charge,
      ...authentication,
      status: 'failed',
      authorized: false,
      paid: false,
      capturable: false,
      reversible: false,
      failure_code: failure.code,
      failure_message: failure.message,
      ...(charge.source ? { source: { ...charge.source, charge_status: 'failed' } } : {}),
    };
  }
  return {
    ...paid(ctx, charge),
    ...authentication,
    ...(charge.source ? { source: { ...charge.source, charge_status: 'successful' } } : {}),
  };
}

/** `charge.expire`: a pending charge was not paid in time. */
export function expireCharge(ctx: SimulationContext, charge: OmiseCharge): OmiseCharge {
  return {
    ...charge,
    status: 'expired',
    expired: true,
    authorized: false,
    paid: false,
    capturable: false,
    reversible: false,
    expired_at: omiseTime(ctx.now),
    ...(charge.source ? { source: { ...charge.source, charge_status: 'expired' } } : {}),
  };
}

/** `charge.update`: the merchant changed the description or metadata. */
export function updateCharge(
  charge: OmiseCharge,
  changes: { description?: string | null; metadata?: OmiseMetadata },
): OmiseCharge {
  return {
    ...charge,
    ...(changes.description !== undefined ? { description: changes.description } : {}),
    ...(changes.metadata !== undefined ? { metadata: { ...charge.metadata, ...changes.metadata } } : {}),
  };
}

/** The charge-like facts a refund or a dispute needs. */
export interface ChargeFacts {
  id: string;
  amount: number;
  currency: string;
  refunded_amount?: number;
}

/** `refund.create`: all (by default, what is left) or part of a charge is refunded. */
export function newRefund(
  ctx: SimulationContext,
  charge: ChargeFacts,
  input: { id?: string; amount?: number; metadata?: OmiseMetadata } = {},
): OmiseRefund {
  const id = input.id ?? ctx.ids.next('rfnd');
  const left = charge.amount - (charge.refunded_amount ?? 0);
  const amount = input.amount ?? (left > 0 ? left : charge.amount);
  const currency = charge.currency.toUpperCase();
  return {
    object: 'refund',
    id,
    location: `/charges/${charge.id}/refunds/${id}`,
    amount,
    currency,
    voided: false,
    charge: charge.id,
    transaction: ctx.ids.next('trxn'),
    status: 'closed',
    funding_amount: amount,
    funding_currency: currency,
    metadata: input.metadata ?? { reason: currency === 'THB' ? 'ลูกค้าคืนสินค้า' : '返品' },
    created_at: omiseTime(ctx.now),
    livemode: false,
  };
}

/** The charge after a refund: its refunded amount and list of refunds grow. */
export function chargeWithRefund(ctx: SimulationContext, charge: OmiseCharge, refund: OmiseRefund): OmiseCharge {
  const refunds = [...(charge.refunds?.data ?? []), refund];
  return {
    ...charge,
    refunded_amount: (charge.refunded_amount ?? 0) + refund.amount,
    refunds: omiseList(`/charges/${charge.id}/refunds`, refunds, ctx.now),
  };
}

// ---------------------------------------------------------------------------------------------
// Disputes

/** `dispute.create`: the cardholder's bank opened a chargeback against a charge. */
export function newDispute(ctx: SimulationContext, charge: ChargeFacts, input: { id?: string } = {}): OmiseDispute {
  const id = input.id ?? ctx.ids.next('dspt');
  const currency = charge.currency.toUpperCase();
  return {
    object: 'dispute',
    id,
    livemode: false,
    location: `/disputes/${id}`,
    currency,
    amount: charge.amount,
    funding_amount: charge.amount,
    funding_currency: currency,
    metadata: {},
    charge: charge.id,
    documents: omiseList(`/disputes/${id}/documents`, [], ctx.now),
    admin_message: null,
    message: null,
    reason_code: 'goods_or_services_not_provided',
    reason_message: 'Services not provided or Merchandise not received',
    status: 'open',
    closed_at: null,
    created_at: omiseTime(ctx.now),
  };
}

/** `dispute.update`: the merchant answered; Omise reviews it. */
export function answerDispute(dispute: OmiseDispute, message: string): OmiseDispute {
  return { ...dispute, status: 'pending', message };
}

/** `dispute.accept`: the merchant conceded the dispute: the cardholder keeps the money. */
export function acceptDispute(ctx: SimulationContext, dispute: OmiseDispute): OmiseDispute {
  return { ...dispute, status: 'lost', closed_at: omiseTime(ctx.now) };
}

/** `dispute.close`: the bank decided; by default in the merchant's favour. */
export function closeDispute(
  ctx: SimulationContext,
  dispute: OmiseDispute,
  outcome: 'won' | 'lost' = 'won',
): OmiseDispute {
  return {
    ...dispute,
    status: outcome,
    admin_message: outcome === 'won' ? 'The issuer accepted the evidence provided.' : null,
    closed_at: omiseTime(ctx.now),
  };
}

// ---------------------------------------------------------------------------------------------
// Links

export interface LinkInput {
  id?: string;
  amount?: number;
  currency?: string;
  title?: string;
  description?: string;
  multiple?: boolean;
}

/** `link.create`: a hosted payment page for a fixed amount. */
export function newLink(ctx: SimulationContext, input: LinkInput = {}): OmiseLink {
  const id = input.id ?? ctx.ids.next('link');
  const currency = (input.currency ?? ctx.currency).toUpperCase();
  const thai = currency === 'THB';
  return {
    object: 'link',
    id,
    livemode: false,
    location: `/links/${id}`,
    amount: input.amount ?? amountIn(currency, 35000),
    currency,
    used: false,
    multiple: input.multiple ?? false,
    title: input.title ?? (thai ? 'ข้าวมันไก่ 2 จาน' : 'ランチセット 2 食'),
    description: input.description ?? (thai ? 'ค่าอาหารกลางวัน / lunch' : 'ランチ代 / lunch'),
    charges: omiseList(`/links/${id}/charges`, [], ctx.now),
    payment_uri: `https://pay.omise.co/links/${id}`,
    deleted: false,
    deleted_at: null,
    used_at: null,
    metadata: {},
    created_at: omiseTime(ctx.now),
  };
}

// ---------------------------------------------------------------------------------------------
// Recipients and transfers

/** A bank account as Omise shows it on a recipient: never the full number. */
export function newBankAccount(
  ctx: SimulationContext,
  input: { name?: string; number?: string; brand?: string } = {},
): OmiseBankAccount {
  const thai = isThai(ctx);
  const account: OmiseBankAccount = {
    object: 'bank_account',
    brand: input.brand ?? (thai ? 'kbank' : 'mufg'),
    last_digits: (input.number ?? '0001237890').slice(-4),
    name: input.name ?? (thai ? 'สมชาย ประเสริฐ' : 'ヤマダ ハナコ'),
    bank_code: thai ? '004' : '0005',
  };
  // Japanese accounts also name the branch and the kind of account.
  if (!thai) {
    account.branch_code = '001';
    account.account_type = 'normal';
  }
  account.created_at = omiseTime(ctx.now);
  return account;
}

export interface RecipientInput {
  id?: string;
  name?: string;
  email?: string | null;
  description?: string | null;
  type?: 'individual' | 'corporation';
  taxId?: string | null;
  bankAccount?: { name?: string; number?: string; brand?: string };
}

/** `recipient.create`: someone to transfer money to; new recipients are neither verified nor active. */
export function newRecipient(ctx: SimulationContext, input: RecipientInput = {}): OmiseRecipient {
  const id = input.id ?? ctx.ids.next('recp');
  const thai = isThai(ctx);
  return {
    object: 'recipient',
    id,
    livemode: false,
    location: `/recipients/${id}`,
    verified: false,
    active: false,
    verified_at: null,
    activated_at: null,
    default: false,
    deleted: false,
    name: input.name ?? (thai ? 'Somchai Prasert' : 'Hanako Yamada'),
    email:
      input.email === undefined ? (thai ? 'somchai.prasert@example.co.th' : 'hanako.yamada@example.jp') : input.email,
    description: input.description === undefined ? (thai ? 'ผู้ขาย (ทดสอบ)' : '出品者（テスト）') : input.description,
    type: input.type ?? 'individual',
    tax_id: input.taxId ?? null,
    bank_account: newBankAccount(ctx, input.bankAccount),
    failure_code: null,
    metadata: {},
    schedule: null,
    created_at: omiseTime(ctx.now),
  };
}

/** `recipient.verify`: Omise checked the bank account. */
export function verifyRecipient(ctx: SimulationContext, recipient: OmiseRecipient): OmiseRecipient {
  return { ...recipient, verified: true, verified_at: omiseTime(ctx.now), failure_code: null };
}

/** `recipient.activate`: transfers to the recipient are allowed. */
export function activateRecipient(ctx: SimulationContext, recipient: OmiseRecipient): OmiseRecipient {
  return { ...recipient, active: true, activated_at: omiseTime(ctx.now) };
}

/** `recipient.deactivate`: transfers to the recipient are stopped. */
export function deactivateRecipient(recipient: OmiseRecipient): OmiseRecipient {
  return { ...recipient, active: false };
}

/** `recipient.update`: name, email, description or tax id changed. */
export function updateRecipient(
  recipient: OmiseRecipient,
  changes: { name?: string; email?: string | null; description?: string | null; tax_id?: string | null },
): OmiseRecipient {
  const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
  return { ...recipient, ...defined };
}

/** The recipient-like facts a transfer needs. */
export interface RecipientFacts {
  id: string;
  bank_account?: OmiseBankAccount;
}

/** `transfer.create`: a payout to a recipient's bank account, not yet sent. */
export function newTransfer(
  ctx: SimulationContext,
  recipient: RecipientFacts,
  input: { id?: string; amount?: number; currency?: string } = {},
): OmiseTransfer {
  const id = input.id ?? ctx.ids.next('trsf');
  const currency = (input.currency ?? ctx.currency).toUpperCase();
  const amount = input.amount ?? amountIn(currency, 5000000);
  const fee = currency === 'THB' ? 3000 : 250;
  return {
    object: 'transfer',
    id,
    livemode: false,
    location: `/transfers/${id}`,
    deleted: false,
    fail_fast: false,
    paid: false,
    sent: false,
    sendable: true,
    amount,
    currency,
    fee,
    fee_vat: 0,
    net: amount - fee,
    total_fee: fee,
    failure_code: null,
    failure_message: null,
    transaction: null,
    recipient: recipient.id,
    bank_account: recipient.bank_account ?? newBankAccount(ctx),
    schedule: null,
    metadata: {},
    paid_at: null,
    sent_at: null,
    created_at: omiseTime(ctx.now),
  };
}

/** `transfer.update`: the amount was changed before sending. */
export function updateTransfer(transfer: OmiseTransfer, changes: { amount?: number }): OmiseTransfer {
  if (changes.amount === undefined) return transfer;
  const fee = transfer.fee ?? 0;
  return { ...transfer, amount: changes.amount, net: changes.amount - fee };
}

/** `transfer.send`: the transfer was sent to the bank. */
export function sendTransfer(ctx: SimulationContext, transfer: OmiseTransfer): OmiseTransfer {
  return {
    ...transfer,
    sent: true,
    sendable: false,
    sent_at: omiseTime(ctx.now),
    transaction: transfer.transaction ?? ctx.ids.next('trxn'),
  };
}

/** `transfer.pay`: the money arrived in the recipient's account. */
export function payTransfer(ctx: SimulationContext, transfer: OmiseTransfer): OmiseTransfer {
  const sent = transfer.sent ? transfer : sendTransfer(ctx, transfer);
  return { ...sent, paid: true, paid_at: omiseTime(ctx.now) };
}

/** `transfer.fail`: the bank refused the transfer, or the balance could not cover it. */
export function failTransfer(
  transfer: OmiseTransfer,
  failure = { code: 'insufficient_balance', message: 'the balance is not enough to cover the transfer and its fee' },
): OmiseTransfer {
  return {
    ...transfer,
    sent: false,
    paid: false,
    sendable: false,
    failure_code: failure.code,
    failure_message: failure.message,
  };
}

// ---------------------------------------------------------------------------------------------
// Schedules

export interface ScheduleInput {
  id?: string;
  /** The customer charged on each occurrence (and the card, else the customer's default card). */
  customer?: { id: string; default_card?: string | null };
  amount?: number;
  currency?: string;
  dayOfMonth?: number;
  /** How many months the schedule runs. Default 6. */
  months?: number;
  startOn?: string;
}

function addMonths(date: string, months: number, day: number): string {
  const [year, month] = date.split('-').map(Number) as [number, number];
  const total = (month - 1 + months) % 12;
  const nextYear = year + Math.floor((month - 1 + months) / 12);
  return `${nextYear}-${String(total + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function ordinal(day: number): string {
  const suffix =
    day % 10 === 1 && day !== 11
      ? 'st'
      : day % 10 === 2 && day !== 12
        ? 'nd'
        : day % 10 === 3 && day !== 13
          ? 'rd'
          : 'th';
  return `${day}${suffix}`;
}

/** `schedule.create`: a monthly charge of a customer's card. */
export function newSchedule(ctx: SimulationContext, input: ScheduleInput = {}): OmiseSchedule {
  const id = input.id ?? ctx.ids.next('schd');
  const currency = (input.currency ?? ctx.currency).toUpperCase();
  const day = input.dayOfMonth ?? 15;
  const startOn = input.startOn ?? addMonths(omiseDate(ctx.now), 1, day);
  const months = input.months ?? 6;
  const customerId = input.customer?.id ?? ctx.ids.next('cust');
  const cardId = input.customer ? (input.customer.default_card ?? null) : ctx.ids.next('card');
  const thai = currency === 'THB';
  return {
    object: 'schedule',
    id,
    livemode: false,
    location: `/schedules/${id}`,
    status: 'active',
    active: true,
    deleted: false,
    every: 1,
    period: 'month',
    on: { days_of_month: [day] },
    in_words: `Every 1 month(s) on the ${ordinal(day)}`,
    start_on: startOn,
    end_on: addMonths(startOn, months, day),
    charge: {
      amount: input.amount ?? amountIn(currency, 59900),
      currency,
      description: thai ? 'ค่าสมาชิกรายเดือน' : '月額会員費',
      customer: customerId,
      card: cardId,
      default_card: cardId === null,
      metadata: { plan: 'monthly' },
    },
    transfer: null,
    occurrences: omiseList(`/schedules/${id}/occurrences`, [], ctx.now),
    next_occurrences_on: [0, 1, 2].map((n) => addMonths(startOn, n, day)),
    ended_at: null,
    created_at: omiseTime(ctx.now),
  };
}

/** `schedule.expiring`: the schedule's last occurrence is close. */
export function scheduleExpiring(ctx: SimulationContext, schedule: OmiseSchedule): OmiseSchedule {
  const day = schedule.on.days_of_month?.[0] ?? 15;
  const endOn = addMonths(omiseDate(ctx.now), 1, day);
  return { ...schedule, status: 'expiring', end_on: endOn, next_occurrences_on: [endOn] };
}

/** `schedule.expire`: the schedule reached its end date. */
export function expireSchedule(ctx: SimulationContext, schedule: OmiseSchedule): OmiseSchedule {
  return { ...schedule, status: 'expired', active: false, next_occurrences_on: [], ended_at: omiseTime(ctx.now) };
}

/** `schedule.suspend`: Omise stopped the schedule after its charges kept failing. */
export function suspendSchedule(ctx: SimulationContext, schedule: OmiseSchedule): OmiseSchedule {
  return { ...schedule, status: 'suspended', active: false, next_occurrences_on: [], ended_at: omiseTime(ctx.now) };
}

/** `schedule.destroy`: the merchant deleted the schedule. Unlike other deletions, the whole schedule is sent. */
export function destroySchedule(ctx: SimulationContext, schedule: OmiseSchedule): OmiseSchedule {
  return {
    ...schedule,
    status: 'deleted',
    active: false,
    deleted: true,
    next_occurrences_on: [],
    ended_at: omiseTime(ctx.now),
  };
}
