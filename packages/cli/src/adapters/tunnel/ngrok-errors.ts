import { maskSecret } from '../../core/mask-secret.js';
import { TunnelError } from '../../core/tunnel.js';

const AUTHTOKEN_PAGE = 'https://dashboard.ngrok.com/get-started/your-authtoken';
const DOMAINS_PAGE = 'https://dashboard.ngrok.com/domains';
const SET_TOKEN = `copy your authtoken from ${AUTHTOKEN_PAGE} into .env as NGROK_AUTHTOKEN=...`;

interface Explanation {
  code: string;
  message: string;
  fix: string;
  retryable: boolean;
}

/**
 * ngrok's error codes (https://ngrok.com/docs/errors/) that a user of `serve --tunnel` can
 * actually run into, in plain words. Codes not listed fall back to ngrok's own message.
 */
function explainCode(providerCode: string, domain: string | undefined): Explanation | undefined {
  const theDomain = domain ? `the domain ${domain}` : 'the domain';
  switch (providerCode) {
    case 'ERR_NGROK_4018':
      return {
        code: 'missing_authtoken',
        message: 'ngrok refused the session: it needs an ngrok account and its authtoken',
        fix: `sign up at https://dashboard.ngrok.com/signup (free), then ${SET_TOKEN}`,
        retryable: false,
      };
    case 'ERR_NGROK_105':
      return {
        code: 'invalid_authtoken',
        message: 'NGROK_AUTHTOKEN does not look like an ngrok authtoken',
        fix: `${SET_TOKEN} (the whole token, nothing else on the line)`,
        retryable: false,
      };
    case 'ERR_NGROK_106':
      return {
        code: 'invalid_authtoken',
        message: 'NGROK_AUTHTOKEN is an old ngrok v1 authtoken',
        fix: `${SET_TOKEN} (a current one)`,
        retryable: false,
      };
    case 'ERR_NGROK_107':
      return {
        code: 'invalid_authtoken',
        message:
          'NGROK_AUTHTOKEN is well formed but ngrok no longer accepts it (reset, revoked, or from a team you left)',
        fix: `${SET_TOKEN} (check it matches the one shown there now)`,
        retryable: false,
      };
    case 'ERR_NGROK_108':
      return {
        code: 'too_many_sessions',
        message: 'your ngrok account is already running as many agent sessions as its plan allows',
        fix: 'stop the other ngrok agent (another `ngrok http` or `omise-webhook serve --tunnel`), then start again',
        retryable: false,
      };
    case 'ERR_NGROK_313':
    case 'ERR_NGROK_319':
    case 'ERR_NGROK_354':
      return {
        code: 'domain_not_reserved',
        message: `${theDomain} is not reserved on your ngrok account`,
        fix: `reserve it at ${DOMAINS_PAGE} (one static domain is free), or leave out --tunnel-domain (OMISE_WEBHOOK_TUNNEL_DOMAIN) to get a random URL`,
        retryable: false,
      };
    case 'ERR_NGROK_314':
    case 'ERR_NGROK_412':
      return {
        code: 'domain_needs_paid_plan',
        message: `${theDomain} is a custom host name, which your ngrok plan does not include`,
        fix: `use the free static domain shown at ${DOMAINS_PAGE}, or leave out --tunnel-domain`,
        retryable: false,
      };
    case 'ERR_NGROK_320':
      return {
        code: 'domain_of_another_account',
        message: `${theDomain} is reserved by a different ngrok account than the one NGROK_AUTHTOKEN belongs to`,
        fix: `use the authtoken of the account that reserved it (${AUTHTOKEN_PAGE}), or a domain of your own (${DOMAINS_PAGE})`,
        retryable: false,
      };
    case 'ERR_NGROK_334':
      return {
        code: 'domain_in_use',
        message: `${theDomain} is already online in another ngrok session`,
        fix: 'stop the other agent using it (another `ngrok http` or `omise-webhook serve --tunnel`), or choose another --tunnel-domain',
        retryable: false,
      };
    default:
      return undefined;
  }
}

/** Messages of the SDK when it could not reach ngrok's servers at all (no network, DNS, firewall). */
const UNREACHABLE =
  /failed to establish tcp connection|failed to resolve|dns error|connection refused|network is unreachable|timed out|timeout|tls handshake|no route to host/i;

/**
 * Turns an error from the `@ngrok/ngrok` SDK into a TunnelError in plain words, with a fix.
 * The authtoken is masked wherever ngrok's own message repeats it.
 *
 * @example
 * explainNgrokError(new Error('authentication failed: ...\n\nERR_NGROK_105'), { authtoken })
 * // TunnelError { code: 'invalid_authtoken', fix: 'copy your authtoken from ...' }
 */
export function explainNgrokError(error: unknown, context: { authtoken?: string; domain?: string } = {}): TunnelError {
  if (error instanceof TunnelError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const scrubbed = scrubSecret(raw, context.authtoken);
  const providerCode =
    (error as { errorCode?: unknown })?.errorCode && typeof (error as { errorCode?: unknown }).errorCode === 'string'
      ? ((error as { errorCode: string }).errorCode as string)
      : /ERR_NGROK_\d+/.exec(raw)?.[0];
  const known = providerCode ? explainCode(providerCode, context.domain) : undefined;
  if (known) return new TunnelError({ ...known, ...(providerCode ? { providerCode } : {}) });
  if (UNREACHABLE.test(raw)) {
    return new TunnelError({
      code: 'unreachable',
      message: `could not reach ngrok (${firstLine(scrubbed)})`,
      fix: 'check the internet connection, and that a firewall or proxy allows outgoing connections to ngrok',
      retryable: true,
    });
  }
  return new TunnelError({
    code: 'ngrok_error',
    message: `ngrok refused the tunnel: ${firstLine(scrubbed)}${providerCode ? ` (${providerCode})` : ''}`,
    fix: providerCode
      ? `see https://ngrok.com/docs/errors/${providerCode.toLowerCase()}/`
      : 'check NGROK_AUTHTOKEN and --tunnel-domain; run with a plain `ngrok http` to compare',
    // Codes are ngrok's verdict on the request; without one it may be a passing fault.
    retryable: providerCode === undefined,
    ...(providerCode ? { providerCode } : {}),
  });
}

/**
 * Why an open session was lost, for "lost the connection (...)": the plain-words explanation
 * when ngrok gave a known code or the network is at fault, else ngrok's own first line.
 */
export function describeNgrokDisconnection(
  error: string,
  context: { authtoken?: string; domain?: string } = {},
): string {
  const explained = explainNgrokError(new Error(error), context);
  return explained.code === 'ngrok_error' ? firstLine(scrubSecret(error, context.authtoken)) : explained.message;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find(Boolean) ?? 'no details'
  );
}

function scrubSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join(maskSecret(secret));
}
