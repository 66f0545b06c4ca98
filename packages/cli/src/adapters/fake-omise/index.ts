// A local stand-in for the Omise API: the Events API and the test-mode calls that cause events.
// The tests of every capability use it instead of the network; users run it with `omise-webhook fake-omise`.

export { FakeOmiseError, omiseErrorObject } from './fake-omise-account.js';
export {
  type FakeOmiseOptions,
  type RunningFakeOmise,
  type SeedDeliveries,
  startFakeOmise,
} from './fake-omise-server.js';
