/**
 * Omise-shaped object ids for simulated events and the fake Omise API.
 *
 * Test-mode ids are `<prefix>_test_` followed by 19 lowercase letters and digits (Omise's own
 * ids start with `5` or `6`, a time-ordered base-36 prefix). The source is injected so builders stay
 * deterministic: a seeded source gives the same ids for the same seed, a random one for real use.
 */

/** The id prefixes Omise uses for the objects this tool simulates. */
export type OmiseIdPrefix =
  | 'evnt'
  | 'chrg'
  | 'card'
  | 'cust'
  | 'trxn'
  | 'rfnd'
  | 'dspt'
  | 'docu'
  | 'trsf'
  | 'recp'
  | 'schd'
  | 'occu'
  | 'link'
  | 'src'
  | 'tokn'
  | 'paym'
  | 'whdl';

/** Hands out ids; each call returns a new one. */
export interface IdSource {
  next(prefix: OmiseIdPrefix): string;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const BODY_LENGTH = 18;

/** A small, fast, well-mixed 32-bit generator (mulberry32); plenty for ids, never for secrets. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** FNV-1a over the seed text, so any string can seed the generator. */
function hashSeed(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function idFrom(prefix: OmiseIdPrefix, nextWord: () => number): string {
  let body = '5';
  for (let i = 0; i < BODY_LENGTH; i++) body += ALPHABET[nextWord() % ALPHABET.length];
  return `${prefix}_test_${body}`;
}

/**
 * The same ids, in the same order, for the same seed: for reproducible `trigger --print` output and tests.
 *
 * @example
 * const ids = seededIdSource('docs');
 * ids.next('chrg'); // 'chrg_test_5...' (always the same for the seed 'docs')
 */
export function seededIdSource(seed: string): IdSource {
  const nextWord = mulberry32(hashSeed(seed));
  return { next: (prefix) => idFrom(prefix, nextWord) };
}

/**
 * Fresh random ids (Web Crypto), for real use.
 *
 * @example
 * randomIdSource().next('evnt'); // 'evnt_test_5k2...'
 */
export function randomIdSource(): IdSource {
  return {
    next: (prefix) => {
      const words = crypto.getRandomValues(new Uint32Array(BODY_LENGTH));
      let index = 0;
      return idFrom(prefix, () => words[index++] ?? 0);
    },
  };
}

/** `2024-01-18T14:05:11Z`: Omise writes times to the second, in UTC. */
export function omiseTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `2024-01-18 14:05:11 UTC`: the format of `webhook_deliveries[].created_at`. */
export function omiseDeliveryTime(ms: number): string {
  return `${omiseTime(ms).replace('T', ' ').replace('Z', '')} UTC`;
}

/** `2024-01-18`: dates of schedules. */
export function omiseDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Text that looks random but is fixed by `seed`, e.g. a card fingerprint derived from the card's id,
 * so a simulated object is the same every time it is built from the same ids.
 */
export function pseudoRandomText(seed: string, alphabet: string, length: number): string {
  const nextWord = mulberry32(hashSeed(seed));
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[nextWord() % alphabet.length];
  return text;
}
