/**
 * How the fake says it is the fake. Its own module so a client (trigger --via-api) can ask
 * without loading the fake server.
 */

/** `GET` here answers `FakeOmiseInfo`, without a key; Omise itself has no such route (it answers 404). */
export const FAKE_OMISE_INFO_PATH = '/fake-omise';

/** What the fake says about itself at `FAKE_OMISE_INFO_PATH`. */
export interface FakeOmiseInfo {
  object: 'fake_omise';
  /** Where events caused through the API are delivered, or null when they are only recorded. */
  webhook_url: string | null;
  signed: boolean;
}
