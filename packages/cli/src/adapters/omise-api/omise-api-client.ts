import type {
  OmiseCard,
  OmiseCharge,
  OmiseCustomer,
  OmiseDeletedObject,
  OmiseEventEnvelope,
  OmiseLink,
  OmiseList,
  OmiseRecipient,
  OmiseRefund,
  OmiseSchedule,
  OmiseTransfer,
} from '@omise-webhook/events';
import type { ListParams, OmiseApiResponse, OmiseEventLookup, OmiseEventsApi } from '../../core/ports.js';

export const DEFAULT_OMISE_API_URL = 'https://api.omise.co';
/** Card tokens are made here, with the public key, so card numbers never reach the merchant's server. */
export const DEFAULT_OMISE_VAULT_URL = 'https://vault.omise.co';

export interface OmiseApiClientOptions {
  /** `skey_test_...` or `skey_live_...`. Sent as the Basic-auth user with an empty password. */
  secretKey: string;
  /** Default `https://api.omise.co`; tests point it at the fake Omise API. */
  baseUrl?: string;
  /** `pkey_test_...`: needed only to make card tokens. */
  publicKey?: string;
  /** Default `https://vault.omise.co`: where card tokens are made. */
  vaultUrl?: string;
  /** Optional `Omise-Version` header. */
  apiVersion?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** An error object from the Omise API, or a failure to reach it. */
export class OmiseApiError extends Error {
  override readonly name = 'OmiseApiError';
  constructor(
    /** HTTP status, or 0 when the API could not be reached. */
    readonly status: number,
    /** Omise's `code` (`not_found`, `authentication_failure`, ...) or `network_error`, `timeout`, `bad_response`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A small typed client for the parts of the Omise REST API this tool uses. Unlike the
 * official SDK it takes a base URL with a port, so it can talk to a local fake.
 *
 * @example
 * const api = new OmiseApiClient({ secretKey: 'skey_test_...', baseUrl: 'http://127.0.0.1:4010' });
 * const event = await api.request('GET', '/events/evnt_test_123');
 */
export class OmiseApiClient implements OmiseEventsApi {
  readonly baseUrl: string;
  readonly vaultUrl: string;
  readonly #secretKey: string;
  readonly #publicKey: string | undefined;
  readonly #apiVersion: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: OmiseApiClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_OMISE_API_URL).replace(/\/+$/, '');
    this.vaultUrl = (options.vaultUrl ?? DEFAULT_OMISE_VAULT_URL).replace(/\/+$/, '');
    this.#secretKey = options.secretKey;
    this.#publicKey = options.publicKey;
    this.#apiVersion = options.apiVersion;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * Sends one request. Form fields go as `application/x-www-form-urlencoded`, as Omise expects.
   * Throws OmiseApiError for error objects, network failures and timeouts.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    form?: Record<string, FormValue> | FormFields,
    options: { authKey?: string; baseUrl?: string } = {},
  ): Promise<OmiseApiResponse<T>> {
    const base = (options.baseUrl ?? this.baseUrl).replace(/\/+$/, '');
    const url = `${base}${path}`;
    const headers: Record<string, string> = {
      Authorization: `Basic ${Buffer.from(`${options.authKey ?? this.#secretKey}:`).toString('base64')}`,
      Accept: 'application/json',
      'User-Agent': 'omise-webhook',
    };
    if (this.#apiVersion) headers['Omise-Version'] = this.#apiVersion;
    let body: string | undefined;
    if (form) {
      const params = new URLSearchParams();
      const entries: ReadonlyArray<readonly [string, FormValue]> = Array.isArray(form) ? form : Object.entries(form);
      for (const [name, value] of entries) if (value !== undefined) params.append(name, String(value));
      body = params.toString();
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
    }
    let response: Response;
    try {
      response = await this.#fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (error) {
      const cause =
        error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
        throw new OmiseApiError(0, 'timeout', `the Omise API at ${base} did not answer within ${this.#timeoutMs} ms`);
      }
      throw new OmiseApiError(
        0,
        'network_error',
        `could not reach the Omise API at ${base} (${cause}); check your network, or ${base === this.vaultUrl && base !== this.baseUrl ? 'OMISE_VAULT_URL' : 'OMISE_API_URL'}`,
      );
    }
    const text = await response.text();
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new OmiseApiError(
        response.status,
        'bad_response',
        `the Omise API at ${base} answered ${method} ${path} with HTTP ${response.status} and a body that is not JSON`,
      );
    }
    const error = data as { object?: unknown; code?: unknown; message?: unknown };
    if (!response.ok || error.object === 'error') {
      const code = typeof error.code === 'string' ? error.code : `http_${response.status}`;
      const message = typeof error.message === 'string' ? error.message : `HTTP ${response.status}`;
      throw new OmiseApiError(response.status, code, message);
    }
    return { status: response.status, text, data: data as T };
  }

  /** `GET /events/:id`, as the outcome the receiver needs to decide what to do. */
  async lookupEvent(eventId: string): Promise<OmiseEventLookup> {
    try {
      const response = await this.request('GET', `/events/${encodeURIComponent(eventId)}`);
      return { kind: 'found', body: response.text };
    } catch (error) {
      if (!(error instanceof OmiseApiError)) throw error;
      if (error.status === 404) return { kind: 'not_found', message: `${error.code}: ${error.message}` };
      if (error.status === 401 || error.status === 403) {
        return {
          kind: 'auth_failed',
          message: `the Omise API refused OMISE_SECRET_KEY (${error.code}: ${error.message}); check the key on the dashboard (Keys, test mode)`,
        };
      }
      return { kind: 'unavailable', message: error.message };
    }
  }

  /** `GET /events` with Omise's pagination parameters. */
  listEvents(params: ListParams = {}): Promise<OmiseApiResponse<OmiseListEnvelope>> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
    const suffix = query.size > 0 ? `?${query}` : '';
    return this.request<OmiseListEnvelope>('GET', `/events${suffix}`);
  }

  /** `GET /events/:id`: the event with Omise's delivery log, and the exact text the API sent. */
  getEvent(eventId: string): Promise<OmiseApiResponse<OmiseEventEnvelope>> {
    return this.request<OmiseEventEnvelope>('GET', `/events/${encodeURIComponent(eventId)}`);
  }

  /** `POST /tokens` on the vault with the public key: a single-use token for a (test) card. */
  createToken(card: TokenCardParams): Promise<OmiseApiResponse<OmiseToken>> {
    if (!this.#publicKey) {
      throw new OmiseApiError(
        0,
        'missing_public_key',
        'making a card token needs the public key: set OMISE_PUBLIC_KEY to your pkey_test_... key',
      );
    }
    return this.request<OmiseToken>('POST', '/tokens', flattenForm({ card }), {
      authKey: this.#publicKey,
      baseUrl: this.vaultUrl,
    });
  }

  /** `POST /charges`: `card` is a token (or a customer's card id), or pass `customer`, or `source: { type }`. */
  createCharge(params: CreateChargeParams): Promise<OmiseApiResponse<OmiseCharge>> {
    return this.request<OmiseCharge>('POST', '/charges', flattenForm(params));
  }

  updateCharge(chargeId: string, params: { description?: string; metadata?: Record<string, string> }) {
    return this.request<OmiseCharge>('PATCH', `/charges/${chargeId}`, flattenForm(params));
  }

  captureCharge(chargeId: string) {
    return this.request<OmiseCharge>('POST', `/charges/${chargeId}/capture`);
  }

  reverseCharge(chargeId: string) {
    return this.request<OmiseCharge>('POST', `/charges/${chargeId}/reverse`);
  }

  expireCharge(chargeId: string) {
    return this.request<OmiseCharge>('POST', `/charges/${chargeId}/expire`);
  }

  /** Test mode only: finishes a pending offsite charge as paid (`charge.complete`). */
  markChargeAsPaid(chargeId: string) {
    return this.request<OmiseCharge>('POST', `/charges/${chargeId}/mark_as_paid`);
  }

  /** Test mode only: finishes a pending offsite charge as failed (`charge.complete`). */
  markChargeAsFailed(chargeId: string) {
    return this.request<OmiseCharge>('POST', `/charges/${chargeId}/mark_as_failed`);
  }

  createRefund(chargeId: string, params: { amount?: number; metadata?: Record<string, string> } = {}) {
    return this.request<OmiseRefund>('POST', `/charges/${chargeId}/refunds`, flattenForm(params));
  }

  /** `card` is a token to save on the customer. */
  createCustomer(params: { email?: string; description?: string; card?: string; metadata?: Record<string, string> }) {
    return this.request<OmiseCustomer>('POST', '/customers', flattenForm(params));
  }

  /** With `card` (a token), the card is added to the customer. */
  updateCustomer(
    customerId: string,
    params: { email?: string; description?: string; card?: string; metadata?: Record<string, string> },
  ) {
    return this.request<OmiseCustomer>('PATCH', `/customers/${customerId}`, flattenForm(params));
  }

  destroyCustomer(customerId: string) {
    return this.request<OmiseDeletedObject<'customer'>>('DELETE', `/customers/${customerId}`);
  }

  updateCard(
    customerId: string,
    cardId: string,
    params: { name?: string; expiration_month?: number; expiration_year?: number; city?: string; postal_code?: string },
  ) {
    return this.request<OmiseCard>('PATCH', `/customers/${customerId}/cards/${cardId}`, flattenForm(params));
  }

  destroyCard(customerId: string, cardId: string) {
    return this.request<OmiseDeletedObject<'card'>>('DELETE', `/customers/${customerId}/cards/${cardId}`);
  }

  createRecipient(params: CreateRecipientParams) {
    return this.request<OmiseRecipient>('POST', '/recipients', flattenForm(params));
  }

  updateRecipient(
    recipientId: string,
    params: { name?: string; email?: string; description?: string; tax_id?: string },
  ) {
    return this.request<OmiseRecipient>('PATCH', `/recipients/${recipientId}`, flattenForm(params));
  }

  destroyRecipient(recipientId: string) {
    return this.request<OmiseDeletedObject<'recipient'>>('DELETE', `/recipients/${recipientId}`);
  }

  /** Test mode only: marks a recipient verified (`recipient.verify`). */
  verifyRecipient(recipientId: string) {
    return this.request<OmiseRecipient>('PATCH', `/recipients/${recipientId}/verify`);
  }

  /** Without `recipient`, Omise pays the account's default recipient. */
  createTransfer(params: { amount: number; recipient?: string; metadata?: Record<string, string> }) {
    return this.request<OmiseTransfer>('POST', '/transfers', flattenForm(params));
  }

  updateTransfer(transferId: string, params: { amount?: number; metadata?: Record<string, string> }) {
    return this.request<OmiseTransfer>('PATCH', `/transfers/${transferId}`, flattenForm(params));
  }

  destroyTransfer(transferId: string) {
    return this.request<OmiseDeletedObject<'transfer'>>('DELETE', `/transfers/${transferId}`);
  }

  /** Test mode only (`transfer.send`). */
  markTransferAsSent(transferId: string) {
    return this.request<OmiseTransfer>('POST', `/transfers/${transferId}/mark_as_sent`);
  }

  /** Test mode only, after it was sent (`transfer.pay`). */
  markTransferAsPaid(transferId: string) {
    return this.request<OmiseTransfer>('POST', `/transfers/${transferId}/mark_as_paid`);
  }

  createSchedule(params: CreateScheduleParams) {
    return this.request<OmiseSchedule>('POST', '/schedules', flattenForm(params));
  }

  destroySchedule(scheduleId: string) {
    return this.request<OmiseSchedule>('DELETE', `/schedules/${scheduleId}`);
  }

  createLink(params: { amount: number; currency: string; title: string; description: string; multiple?: boolean }) {
    return this.request<OmiseLink>('POST', '/links', flattenForm(params));
  }
}

/** A page of the Omise API's list endpoints: the library's list type, items untyped by default. */
export type OmiseListEnvelope<T = Record<string, unknown>> = OmiseList<T>;

/** A card token from the vault. */
export interface OmiseToken {
  object: 'token';
  id: string;
  livemode: boolean;
  used: boolean;
  card: OmiseCard;
  created_at?: string;
}

export interface TokenCardParams {
  name: string;
  /** A test card: 4242424242424242 succeeds; 4111111111140011 fails with insufficient_fund. */
  number: string;
  expiration_month: number;
  expiration_year: number;
  security_code?: string;
  city?: string;
  postal_code?: string;
}

export interface CreateChargeParams {
  amount: number;
  currency: string;
  card?: string;
  customer?: string;
  source?: { type: string };
  capture?: boolean;
  description?: string;
  return_uri?: string;
  metadata?: Record<string, string>;
}

export interface CreateRecipientParams {
  name: string;
  type: 'individual' | 'corporation';
  email?: string;
  description?: string;
  tax_id?: string;
  bank_account: { brand?: string; number: string; name: string };
}

export interface CreateScheduleParams {
  every: number;
  period: 'day' | 'week' | 'month';
  on: { days_of_month?: number[]; weekdays?: string[] };
  start_date?: string;
  end_date: string;
  charge: { customer: string; amount: number; currency?: string; card?: string; description?: string };
}

type FormValue = string | number | boolean | undefined;

/** Form fields in order; a name may repeat (`on[days_of_month][]`). */
export type FormFields = ReadonlyArray<readonly [name: string, value: string]>;

/**
 * Nested parameters as Omise's form fields: `{ card: { name } }` becomes `card[name]`,
 * `{ on: { days_of_month: [1, 15] } }` becomes `on[days_of_month][]=1&on[days_of_month][]=15`.
 */
export function flattenForm(params: object, prefix = ''): FormFields {
  const fields: Array<readonly [string, string]> = [];
  for (const [name, value] of Object.entries(params)) {
    const key = prefix ? `${prefix}[${name}]` : name;
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) fields.push([`${key}[]`, String(item)]);
    } else if (typeof value === 'object') {
      fields.push(...flattenForm(value, key));
    } else {
      fields.push([key, String(value)]);
    }
  }
  return fields;
}
