// The public API, listed once. Files starting with `_` are internal and never exported here.

export {
  OMISE_EVENT_KEYS,
  OMISE_EVENT_CATALOGUE,
  isOmiseEventKey,
  isKnownOmiseEvent,
  matchesEventKeyPattern,
  closestEventKeys,
  type OmiseEventKey,
  type OmiseEventGroup,
  type OmiseEventKeyInfo,
} from './event-catalogue.js';
export { OmiseWebhookError, type OmiseWebhookErrorCode, type OmiseJsonPosition } from './errors.js';
export { formatOmiseJson, type FormatOmiseJsonOptions } from './omise-json.js';
export {
  OMISE_SIGNATURE_HEADER,
  OMISE_SIGNATURE_TIMESTAMP_HEADER,
  DEFAULT_TOLERANCE_SEC,
  signOmisePayload,
  verifyOmiseSignature,
  readOmiseSignatureHeaders,
  type OmiseSignatureFailureCode,
  type OmiseSignatureDiagnosis,
  type OmiseSignatureVerification,
  type VerifyOmiseSignatureOptions,
  type SignOmisePayloadOptions,
  type OmiseSignedPayload,
  type OmiseSignatureHeaders,
} from './omise-signature.js';
export { parseOmiseEvent, safeParseOmiseEvent, eventCreatedAt, collectOmiseIds } from './parse-omise-event.js';
export type {
  OmiseMetadata,
  OmiseList,
  OmiseDeletedObject,
  OmiseCard,
  OmiseSource,
  OmiseRefund,
  OmiseCharge,
  OmiseCustomer,
  OmiseDocument,
  OmiseDispute,
  OmiseBankAccount,
  OmiseRecipient,
  OmiseTransfer,
  OmiseOccurrence,
  OmiseSchedule,
  OmiseLink,
  OmiseWebhookDelivery,
  OmiseEventEnvelope,
  OmiseEventDataMap,
  KnownOmiseEvent,
  UnknownOmiseEvent,
  OmiseEvent,
} from './types.js';
