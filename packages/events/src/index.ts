// The public API, listed once. Files starting with `_` are internal and never exported here.

// Node and Fastify adapters live in the `./node` and `./fastify` entries (node.ts, fastify.ts).

export { createFetchHandler, type FetchHandlerOptions } from './create-fetch-handler.js';
export {
  createOmiseWebhooks,
  type OmiseApiFetch,
  type OmiseApiVerificationOptions,
  type OmiseErrorHandler,
  type OmiseEventFor,
  type OmiseEventHandler,
  type OmiseEventKeyPattern,
  type OmiseEventKeysMatching,
  type OmiseEventSelector,
  type OmiseReceiveInput,
  type OmiseReceiveResult,
  type OmiseRequestHeaders,
  type OmiseWebhooks,
  type OmiseWebhooksOptions,
} from './create-omise-webhooks.js';
export {
  createMemoryDedupeStore,
  type DedupeStore,
  type MemoryDedupeStoreOptions,
} from './dedupe-store.js';
export {
  type OmiseJsonPosition,
  OmiseWebhookError,
  type OmiseWebhookErrorCode,
  type OmiseWebhookErrorDetails,
} from './errors.js';
export {
  closestEventKeys,
  isKnownOmiseEvent,
  isOmiseEventKey,
  matchesEventKeyPattern,
  OMISE_EVENT_CATALOGUE,
  OMISE_EVENT_KEYS,
  type OmiseEventGroup,
  type OmiseEventKey,
  type OmiseEventKeyInfo,
} from './event-catalogue.js';
export {
  handleOmiseWebhookRequest,
  OMISE_WEBHOOK_ERROR_STATUS,
  type OmiseWebhookRequest,
  type OmiseWebhookResponse,
} from './handle-omise-webhook-request.js';
export { type FormatOmiseJsonOptions, formatOmiseJson } from './omise-json.js';
export {
  DEFAULT_TOLERANCE_SEC,
  OMISE_SIGNATURE_HEADER,
  OMISE_SIGNATURE_TIMESTAMP_HEADER,
  type OmiseSignatureDiagnosis,
  type OmiseSignatureFailureCode,
  type OmiseSignatureHeaders,
  type OmiseSignatureVerification,
  type OmiseSignedPayload,
  readOmiseSignatureHeaders,
  type SignOmisePayloadOptions,
  signOmisePayload,
  type VerifyOmiseSignatureOptions,
  verifyOmiseSignature,
} from './omise-signature.js';
export { collectOmiseIds, eventCreatedAt, parseOmiseEvent, safeParseOmiseEvent } from './parse-omise-event.js';
export type {
  KnownOmiseEvent,
  OmiseBankAccount,
  OmiseCard,
  OmiseCharge,
  OmiseCustomer,
  OmiseDeletedObject,
  OmiseDispute,
  OmiseDocument,
  OmiseEvent,
  OmiseEventDataMap,
  OmiseEventEnvelope,
  OmiseLink,
  OmiseList,
  OmiseMetadata,
  OmiseOccurrence,
  OmiseRecipient,
  OmiseRefund,
  OmiseSchedule,
  OmiseSource,
  OmiseTransfer,
  OmiseWebhookDelivery,
  UnknownOmiseEvent,
} from './types.js';
