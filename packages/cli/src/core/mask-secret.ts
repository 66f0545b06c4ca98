/**
 * Shows enough of a secret to recognise it and never the whole of it.
 *
 * @example
 * maskSecret('skey_test_5xabcdefghijkl') // 'skey_test_••••ijkl'
 */
export function maskSecret(secret: string | undefined): string {
  if (!secret) return '(not set)';
  const prefix = /^(skey|pkey)_(test|live)_/.exec(secret)?.[0] ?? '';
  const tail = secret.length - prefix.length > 8 ? secret.slice(-4) : '';
  return `${prefix}••••${tail}`;
}
