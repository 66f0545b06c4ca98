import { OmiseApiError } from './omise-api-client.js';

/**
 * Omise's own words for an API error, then what to check, for people reading a terminal.
 *
 * @example
 * explainOmiseApiError(error, { apiUrl: 'https://api.omise.co' });
 * // 'the Omise API refused the request: authentication failed (401 authentication_failure). Check that ...'
 */
export function explainOmiseApiError(
  error: unknown,
  context: { apiUrl: string; vaultUrl?: string; secretKey?: string | undefined },
): string {
  if (!(error instanceof OmiseApiError)) return error instanceof Error ? error.message : String(error);
  if (error.code === 'network_error' || error.code === 'timeout') {
    // The client's message already names the URL and says to check the network and OMISE_API_URL.
    return `${error.message} (a proxy or firewall can also block it)`;
  }
  if (error.code === 'missing_public_key') return error.message;
  const said = `the Omise API said: ${error.message} (${error.status} ${error.code})`;
  if (error.status === 401 || error.code === 'authentication_failure') {
    const live = context.secretKey?.startsWith('skey_live_')
      ? ' OMISE_SECRET_KEY is a live key (skey_live_...): use the test key, which works only with test mode.'
      : '';
    return `${said}.${live} Check that OMISE_SECRET_KEY is your test secret key (skey_test_...) and OMISE_PUBLIC_KEY your test public key (pkey_test_...), both from the dashboard (Keys, test mode); a live key does not work in test mode and keys of another account are refused.`;
  }
  if (error.status === 404) {
    return `${said}. The object does not exist for this key: it may belong to another account or to live mode.`;
  }
  if (error.status >= 500)
    return `${said}. Omise had a problem; try again in a moment (status: https://status.omise.co).`;
  return `${said}.`;
}
