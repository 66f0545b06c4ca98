/**
 * A database URL fit to print: its password (in the user-info part or a `password=` query
 * parameter) replaced by `****`, everything else as given so the user recognises it.
 *
 * @example
 * maskDatabaseUrl('postgres://app:s3cret@db.example.com:5432/webhooks');
 * // 'postgres://app:****@db.example.com:5432/webhooks'
 */
export function maskDatabaseUrl(url: string): string {
  // By hand rather than through URL: a password may hold characters URL would re-escape, and
  // text that does not parse as a URL must still lose anything that looks like a password.
  const schemeEnd = url.indexOf('://');
  let masked = url;
  if (schemeEnd >= 0) {
    const authorityStart = schemeEnd + 3;
    const rest = url.slice(authorityStart);
    const authorityEnd = rest.search(/[/?#]/);
    const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      const userInfo = authority.slice(0, at);
      const colon = userInfo.indexOf(':');
      if (colon >= 0) {
        const hidden = `${userInfo.slice(0, colon)}:****${authority.slice(at)}`;
        masked = url.slice(0, authorityStart) + hidden + (authorityEnd < 0 ? '' : rest.slice(authorityEnd));
      }
    }
  }
  return masked.replace(/([?&]password=)[^&#]*/gi, '$1****');
}
