// Simulated Omise events: pure builders for all 35 keys, the objects they carry, `--set`
// overrides, and which keys the Omise test API can cause for real.

export { type ConsistentAfterSet, consistentAfterSet } from './consistent-after-set.js';
export {
  type BuildSimulatedEventOptions,
  buildSimulatedEvent,
  EVENT_STORY_TARGETS,
  type KnownObjects,
  requireEventKey,
  wrapEvent,
} from './event-builders.js';
export {
  type IdSource,
  type OmiseIdPrefix,
  omiseDate,
  omiseDeliveryTime,
  omiseTime,
  randomIdSource,
  seededIdSource,
} from './ids.js';
export type { SimulatedCurrency, SimulationContext } from './objects.js';
export { applySetAssignments, parseSetAssignment, type SetAssignment } from './set-overrides.js';
export { SimulationError } from './simulation-error.js';
export { VIA_API_SUPPORT, type ViaApiSupport } from './via-api-support.js';
