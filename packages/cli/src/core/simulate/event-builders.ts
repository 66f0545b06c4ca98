/**
 * Realistic events for every one of the 35 Omise event keys, built from the object factories in
 * `objects.ts`. Pure: ids and time are injected, so the same inputs give the same event.
 */
import {
  closestEventKeys,
  isOmiseEventKey,
  type KnownOmiseEvent,
  OMISE_EVENT_CATALOGUE,
  type OmiseCard,
  type OmiseCharge,
  type OmiseCustomer,
  type OmiseDispute,
  type OmiseEventDataMap,
  type OmiseEventGroup,
  type OmiseEventKey,
  type OmiseRecipient,
  type OmiseRefund,
  type OmiseSchedule,
  type OmiseTransfer,
  type OmiseWebhookDelivery,
} from '@omise-webhook/events';
import { type IdSource, type OmiseIdPrefix, omiseTime } from './ids.js';
import {
  acceptDispute,
  activateRecipient,
  addCustomerCard,
  amountIn,
  answerDispute,
  type ChargeFacts,
  type ChargeInput,
  captureCharge,
  closeDispute,
  completeCharge,
  deactivateRecipient,
  deletedStub,
  destroySchedule,
  expireCharge,
  expireSchedule,
  failTransfer,
  newCard,
  newCharge,
  newCustomer,
  newDispute,
  newLink,
  newPromptPaySource,
  newRecipient,
  newRefund,
  newSchedule,
  newTransfer,
  payTransfer,
  type RecipientFacts,
  replaceCustomerCard,
  reverseCharge,
  type SimulatedCurrency,
  type SimulationContext,
  scheduleExpiring,
  sendTransfer,
  suspendSchedule,
  updateCharge,
  updateRecipient,
  updateTransfer,
  verifyRecipient,
} from './objects.js';
import { SimulationError } from './simulation-error.js';

/** Objects seen before (for example in stored events), by id: the latest state of each. A Map will do. */
export interface KnownObjects {
  get(id: string): Record<string, unknown> | undefined;
}

/**
 * What `--object <id>` may name for each kind of event: the object itself (continuing its story)
 * or the object it belongs to (a refund's charge, a card's customer, a transfer's recipient).
 */
export const EVENT_STORY_TARGETS: Readonly<
  Record<OmiseEventGroup, { own: OmiseIdPrefix; parents: ReadonlyArray<{ prefix: OmiseIdPrefix; what: string }> }>
> = {
  charge: { own: 'chrg', parents: [{ prefix: 'cust', what: 'the customer whose card is charged' }] },
  customer: { own: 'cust', parents: [] },
  card: { own: 'card', parents: [{ prefix: 'cust', what: 'the customer it belongs to' }] },
  dispute: { own: 'dspt', parents: [{ prefix: 'chrg', what: 'the disputed charge' }] },
  link: { own: 'link', parents: [] },
  recipient: { own: 'recp', parents: [] },
  refund: { own: 'rfnd', parents: [{ prefix: 'chrg', what: 'the refunded charge' }] },
  schedule: { own: 'schd', parents: [{ prefix: 'cust', what: 'the customer it charges' }] },
  transfer: { own: 'trsf', parents: [{ prefix: 'recp', what: 'the recipient it pays' }] },
};

/** Where a new event starts from: the object itself and/or its parent, fresh or as last seen. */
interface Story {
  ownId?: string;
  own?: Record<string, unknown>;
  parentId?: string;
  parent?: Record<string, unknown>;
}

type Builder<K extends OmiseEventKey> = (ctx: SimulationContext, story: Story) => OmiseEventDataMap[K];

function prefixOf(id: string): string {
  return id.slice(0, id.indexOf('_'));
}

/** A deleted stub tells nothing to continue from; treat it as unknown. */
function usable(object: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!object || object.deleted === true) return undefined;
  return structuredClone(object);
}

function resolveStory(key: OmiseEventKey, objectId: string | undefined, known: KnownObjects | undefined): Story {
  if (objectId === undefined) return {};
  const group = OMISE_EVENT_CATALOGUE[key].group;
  const targets = EVENT_STORY_TARGETS[group];
  const prefix = prefixOf(objectId);
  if (prefix === targets.own) return { ownId: objectId, own: usable(known?.get(objectId)) };
  const parent = targets.parents.find((candidate) => candidate.prefix === prefix);
  if (parent) return { parentId: objectId, parent: usable(known?.get(objectId)) };
  const allowed = [
    `a ${targets.own}_ id (the ${group})`,
    ...targets.parents.map((candidate) => `a ${candidate.prefix}_ id (${candidate.what})`),
  ];
  throw new SimulationError(
    'object_mismatch',
    `--object ${objectId} cannot continue a ${key} event; expected ${allowed.join(' or ')}`,
  );
}

// Each helper below starts the object of an event: the one last seen when there is one, else a
// fresh one tied to the parent named by --object.

function chargeFacts(ctx: SimulationContext, story: Story): ChargeFacts {
  const charge = story.parent as Partial<OmiseCharge> | undefined;
  if (charge && typeof charge.amount === 'number' && typeof charge.currency === 'string') {
    return {
      id: story.parentId as string,
      amount: charge.amount,
      currency: charge.currency,
      refunded_amount: charge.refunded_amount ?? 0,
    };
  }
  return { id: story.parentId ?? ctx.ids.next('chrg'), amount: amountIn(ctx.currency, 129000), currency: ctx.currency };
}

function recipientFacts(ctx: SimulationContext, story: Story): RecipientFacts {
  const recipient = story.parent as Partial<OmiseRecipient> | undefined;
  if (recipient?.bank_account) return { id: story.parentId as string, bank_account: recipient.bank_account };
  return { id: story.parentId ?? ctx.ids.next('recp') };
}

function defaultCardOf(customer: Partial<OmiseCustomer> | undefined): OmiseCard | undefined {
  const cards = customer?.cards?.data ?? [];
  return cards.find((card) => card.id === customer?.default_card) ?? cards[0];
}

function chargeOf(ctx: SimulationContext, story: Story, input: ChargeInput = {}): OmiseCharge {
  if (story.own) return story.own as unknown as OmiseCharge;
  const card = input.source ? undefined : defaultCardOf(story.parent as Partial<OmiseCustomer> | undefined);
  return newCharge(ctx, {
    ...input,
    ...(story.ownId ? { id: story.ownId } : {}),
    ...(story.parentId ? { customer: story.parentId } : {}),
    ...(card ? { card } : {}),
  });
}

function customerOf(ctx: SimulationContext, story: Story): OmiseCustomer {
  if (story.own) return story.own as unknown as OmiseCustomer;
  return newCustomer(ctx, story.ownId ? { id: story.ownId } : {});
}

function cardOf(ctx: SimulationContext, story: Story): OmiseCard {
  if (story.own) return story.own as unknown as OmiseCard;
  const customerCard = story.ownId ? undefined : defaultCardOf(story.parent as Partial<OmiseCustomer> | undefined);
  if (customerCard) return customerCard;
  return newCard(ctx, {
    ...(story.ownId ? { id: story.ownId } : {}),
    customerId: story.parentId ?? ctx.ids.next('cust'),
  });
}

function disputeOf(ctx: SimulationContext, story: Story): OmiseDispute {
  if (story.own) return story.own as unknown as OmiseDispute;
  return newDispute(ctx, chargeFacts(ctx, story), story.ownId ? { id: story.ownId } : {});
}

function recipientOf(ctx: SimulationContext, story: Story): OmiseRecipient {
  if (story.own) return story.own as unknown as OmiseRecipient;
  return newRecipient(ctx, story.ownId ? { id: story.ownId } : {});
}

function scheduleOf(ctx: SimulationContext, story: Story): OmiseSchedule {
  if (story.own) return story.own as unknown as OmiseSchedule;
  const customer = story.parent as Partial<OmiseCustomer> | undefined;
  return newSchedule(ctx, {
    ...(story.ownId ? { id: story.ownId } : {}),
    ...(story.parentId ? { customer: { id: story.parentId, default_card: customer?.default_card ?? null } } : {}),
  });
}

function transferOf(ctx: SimulationContext, story: Story): OmiseTransfer {
  if (story.own) return story.own as unknown as OmiseTransfer;
  return newTransfer(ctx, recipientFacts(ctx, story), story.ownId ? { id: story.ownId } : {});
}

function stubId(ctx: SimulationContext, story: Story, prefix: OmiseIdPrefix): string {
  return story.ownId ?? ctx.ids.next(prefix);
}

const thai = (ctx: SimulationContext) => ctx.currency === 'THB';

/** One builder per key; the mapped type makes each one return exactly its key's `data` type. */
const BUILDERS: { readonly [K in OmiseEventKey]: Builder<K> } = {
  'charge.create': (ctx, story) => chargeOf(ctx, story),
  'charge.update': (ctx, story) =>
    updateCharge(chargeOf(ctx, story), {
      description: thai(ctx) ? 'ค่าสินค้า order 3947 (แก้ไขที่อยู่)' : '注文 3947 のお支払い（住所変更）',
      metadata: { shipping: 'express' },
    }),
  'charge.capture': (ctx, story) => captureCharge(ctx, chargeOf(ctx, story, { capture: false })),
  'charge.reverse': (ctx, story) => reverseCharge(ctx, chargeOf(ctx, story, { capture: false })),
  'charge.complete': (ctx, story) => completeCharge(ctx, chargeOf(ctx, story, { threeDSecure: true })),
  'charge.expire': (ctx, story) => {
    const currency = ctx.currency;
    const amount = amountIn(currency, 129000);
    return expireCharge(ctx, chargeOf(ctx, story, { amount, source: newPromptPaySource(ctx, amount, currency) }));
  },
  'customer.create': (ctx, story) => customerOf(ctx, story),
  'customer.update': (ctx, story) => ({
    ...customerOf(ctx, story),
    description: thai(ctx) ? 'สมาชิก VIP (ทดสอบ)' : 'VIP 会員（テスト）',
  }),
  'customer.destroy': (ctx, story) => deletedStub('customer', stubId(ctx, story, 'cust')),
  'customer.update.card': (ctx, story) => {
    const customer = customerOf(ctx, story);
    const card = defaultCardOf(customer);
    if (!card) return addCustomerCard(ctx, customer, newCard(ctx, { customerId: customer.id }));
    // A renewed card: same card id, new expiry date.
    const renewed: OmiseCard = { ...card, expiration_month: 6, expiration_year: card.expiration_year + 2 };
    return replaceCustomerCard(ctx, customer, card.id, renewed);
  },
  'card.update': (ctx, story) => {
    const card = cardOf(ctx, story);
    return { ...card, name: thai(ctx) ? 'SOMCHAI P.' : 'H. YAMADA', expiration_year: card.expiration_year + 1 };
  },
  'card.destroy': (ctx, story) => {
    const customerCard = story.ownId ? undefined : defaultCardOf(story.parent as Partial<OmiseCustomer> | undefined);
    return deletedStub('card', customerCard?.id ?? stubId(ctx, story, 'card'));
  },
  'dispute.create': (ctx, story) => ({ ...disputeOf(ctx, story), status: 'open', closed_at: null }),
  'dispute.update': (ctx, story) =>
    answerDispute(
      disputeOf(ctx, story),
      thai(ctx) ? 'ลูกค้าได้รับสินค้าแล้ว แนบหลักฐานการจัดส่ง' : '商品は配達済みです。配送記録を添付します。',
    ),
  'dispute.accept': (ctx, story) => acceptDispute(ctx, disputeOf(ctx, story)),
  'dispute.close': (ctx, story) => closeDispute(ctx, disputeOf(ctx, story), 'won'),
  'link.create': (ctx, story) =>
    story.own
      ? (story.own as unknown as ReturnType<typeof newLink>)
      : newLink(ctx, story.ownId ? { id: story.ownId } : {}),
  'recipient.create': (ctx, story) => recipientOf(ctx, story),
  'recipient.update': (ctx, story) =>
    updateRecipient(recipientOf(ctx, story), {
      email: thai(ctx) ? 'payouts@example.co.th' : 'payouts@example.jp',
    }),
  'recipient.destroy': (ctx, story) => deletedStub('recipient', stubId(ctx, story, 'recp')),
  'recipient.activate': (ctx, story) => {
    const recipient = recipientOf(ctx, story);
    return activateRecipient(ctx, story.own ? recipient : verifyRecipient(ctx, recipient));
  },
  'recipient.deactivate': (ctx, story) => {
    const recipient = recipientOf(ctx, story);
    return deactivateRecipient(story.own ? recipient : activateRecipient(ctx, verifyRecipient(ctx, recipient)));
  },
  'recipient.verify': (ctx, story) => verifyRecipient(ctx, recipientOf(ctx, story)),
  'refund.create': (ctx, story) =>
    story.own
      ? (story.own as unknown as OmiseRefund)
      : newRefund(ctx, chargeFacts(ctx, story), story.ownId ? { id: story.ownId } : {}),
  'schedule.create': (ctx, story) => scheduleOf(ctx, story),
  'schedule.destroy': (ctx, story) => destroySchedule(ctx, scheduleOf(ctx, story)),
  'schedule.expire': (ctx, story) => expireSchedule(ctx, scheduleOf(ctx, story)),
  'schedule.expiring': (ctx, story) => scheduleExpiring(ctx, scheduleOf(ctx, story)),
  'schedule.suspend': (ctx, story) => suspendSchedule(ctx, scheduleOf(ctx, story)),
  'transfer.create': (ctx, story) => transferOf(ctx, story),
  'transfer.update': (ctx, story) => {
    const transfer = transferOf(ctx, story);
    return updateTransfer(transfer, { amount: Math.round((transfer.amount * 0.8) / 100) * 100 });
  },
  'transfer.destroy': (ctx, story) => deletedStub('transfer', stubId(ctx, story, 'trsf')),
  'transfer.send': (ctx, story) => sendTransfer(ctx, transferOf(ctx, story)),
  'transfer.pay': (ctx, story) => payTransfer(ctx, transferOf(ctx, story)),
  'transfer.fail': (ctx, story) => failTransfer(transferOf(ctx, story)),
};

/**
 * The event envelope Omise sends, in Omise's field order. `webhook_deliveries` is empty in a
 * delivered body: Omise records deliveries after sending.
 *
 * @example
 * const event = wrapEvent('charge.create', charge, { id: 'evnt_test_5xyz', now: Date.now() });
 */
export function wrapEvent<K extends OmiseEventKey>(
  key: K,
  data: OmiseEventDataMap[K],
  options: { id: string; now: number; webhookDeliveries?: OmiseWebhookDelivery[] },
): KnownOmiseEvent<K> {
  return {
    object: 'event',
    id: options.id,
    livemode: false,
    location: `/events/${options.id}`,
    webhook_deliveries: options.webhookDeliveries ?? [],
    data,
    key,
    created_at: omiseTime(options.now),
  } as KnownOmiseEvent<K>;
}

export interface BuildSimulatedEventOptions<K extends OmiseEventKey = OmiseEventKey> {
  key: K;
  ids: IdSource;
  /** Milliseconds since the epoch: `created_at` and every time inside the event. */
  now: number;
  /** Default THB. */
  currency?: SimulatedCurrency;
  /**
   * Continue an object's story: the id of the event's object (`chrg_...` for `charge.complete`) or
   * of its parent (`chrg_...` for `refund.create`, `cust_...` for `card.update`). See {@link EVENT_STORY_TARGETS}.
   */
  objectId?: string;
  /** The latest known state of objects by id, so a continued story keeps amounts, currency and cards. */
  known?: KnownObjects;
}

/**
 * Builds a realistic test-mode event for any known key.
 *
 * @throws {SimulationError} `object_mismatch` when `objectId` is neither the event's object nor its parent.
 * @example
 * const event = buildSimulatedEvent({ key: 'refund.create', ids: seededIdSource('x'), now: Date.now() });
 * event.data.charge; // 'chrg_test_5...': the refunded charge
 */
export function buildSimulatedEvent<K extends OmiseEventKey>(
  options: BuildSimulatedEventOptions<K>,
): KnownOmiseEvent<K> {
  const ctx: SimulationContext = { ids: options.ids, now: options.now, currency: options.currency ?? 'THB' };
  const story = resolveStory(options.key, options.objectId, options.known);
  const builder = BUILDERS[options.key] as Builder<K>;
  const data = builder(ctx, story);
  return wrapEvent(options.key, data, { id: ctx.ids.next('evnt'), now: ctx.now });
}

/**
 * Checks a key typed by a user, or says which known keys are closest.
 *
 * @throws {SimulationError} `unknown_key`
 */
export function requireEventKey(input: string): OmiseEventKey {
  if (isOmiseEventKey(input)) return input;
  const closest = closestEventKeys(input, 3);
  const hint =
    closest.length > 0
      ? `did you mean ${closest.join(', ')}?`
      : 'run `omise-webhook trigger --list` to see all 35 keys';
  throw new SimulationError('unknown_key', `unknown event key ${JSON.stringify(input)}; ${hint}`);
}
