// The public API, listed once. Files starting with `_` are internal and never exported here.

export { type OmiseJsonPosition, OmiseWebhookError, type OmiseWebhookErrorCode } from './errors.js';
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
