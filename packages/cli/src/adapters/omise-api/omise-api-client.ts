import type { OmiseEventLookup, OmiseEventsLookupPort } from '../../core/ports.js';

export const DEFAULT_OMISE_API_URL = 'https://api.omise.co';

export interface OmiseApiClientOptions {
  /** `skey_test_...` or `skey_live_...`. Sent as the Basic-auth user with an empty password. */
  secretKey: string;
  /** Default `https://api.omise.co`; tests point it at the fake Omise API. */
  baseUrl?: string;
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

export interface OmiseApiResponse<T> {
  status: number;
  /** The response body exactly as it came. */
  text: string;
  data: T;
}

export type ListOrder = 'chronological' | 'reverse_chronological';

export interface ListParams {
  from?: string;
  to?: string;
  offset?: number;
  limit?: number;
  order?: ListOrder;
}

/**
 * A small typed client for the parts of the Omise REST API this tool uses. Unlike the
 * official SDK it takes a base URL with a port, so it can talk to a local fake.
 *
 * @example
 * const api = new OmiseApiClient({ secretKey: 'skey_test_...', baseUrl: 'http://127.0.0.1:4010' });
 * const event = await api.request('GET', '/events/evnt_test_123');
 */
export class OmiseApiClient implements OmiseEventsLookupPort {
  readonly baseUrl: string;
  readonly #secretKey: string;
  readonly #apiVersion: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: OmiseApiClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_OMISE_API_URL).replace(/\/+$/, '');
    this.#secretKey = options.secretKey;
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
    form?: Record<string, string | number | boolean | undefined>,
    options: { authKey?: string; baseUrl?: string } = {},
  ): Promise<OmiseApiResponse<T>> {
    const url = `${(options.baseUrl ?? this.baseUrl).replace(/\/+$/, '')}${path}`;
    const headers: Record<string, string> = {
      Authorization: `Basic ${Buffer.from(`${options.authKey ?? this.#secretKey}:`).toString('base64')}`,
      Accept: 'application/json',
      'User-Agent': 'omise-webhook',
    };
    if (this.#apiVersion) headers['Omise-Version'] = this.#apiVersion;
    let body: string | undefined;
    if (form) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(form)) if (value !== undefined) params.append(name, String(value));
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
        throw new OmiseApiError(
          0,
          'timeout',
          `the Omise API at ${this.baseUrl} did not answer within ${this.#timeoutMs} ms`,
        );
      }
      throw new OmiseApiError(
        0,
        'network_error',
        `could not reach the Omise API at ${this.baseUrl} (${cause}); check your network, or OMISE_API_URL`,
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
        `the Omise API at ${this.baseUrl} answered ${method} ${path} with HTTP ${response.status} and a body that is not JSON`,
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
}

export interface OmiseListEnvelope<T = Record<string, unknown>> {
  object: 'list';
  from: string;
  to: string;
  offset: number;
  limit: number;
  total: number;
  order: ListOrder | null;
  location: string;
  data: T[];
}
