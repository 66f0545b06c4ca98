/**
 * What to do when the webhook secret is missing: the one wording every message uses (errors of
 * `serve`, the forwarder's and the replayer's, the inspector's diagnosis, the start-up banner),
 * so the user learns one instruction, not seven.
 */
export const WEBHOOK_SECRET_ADVICE =
  'set OMISE_WEBHOOK_SECRET in .env to the secret from the Omise dashboard (Webhooks, test mode)';
