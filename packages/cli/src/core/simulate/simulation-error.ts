/** A request to simulate something that cannot be done as asked; the message says what to do instead. */
export class SimulationError extends Error {
  override readonly name = 'SimulationError';
  constructor(
    /** Stable code: `unknown_key`, `object_mismatch`, `set_syntax`, `set_missing_path`, `set_not_container`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
