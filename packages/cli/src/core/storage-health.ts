/**
 * Whether the store can be written, shared by everything that writes (the store itself, the
 * file mirror) and everything that must say so (the webhook answer, `/healthz`, the console).
 *
 * A full disk, an I/O error or a file that became read-only is not a bug and not the sender's
 * fault: the store stops trying to write (each webhook is answered 503 at once, never 2xx), the
 * console says why once, and the store probes on its own until a write succeeds again.
 */

/** Why the store cannot be written. */
export type StorageFaultCode = 'disk_full' | 'io_error' | 'read_only' | 'database_unavailable';

/** How a store tells which of its errors are storage faults (default: `storageFaultCodeOf`). */
export type StorageFaultClassifier = (error: unknown) => { code: StorageFaultCode; cause: string } | null;

export interface StorageFault {
  code: StorageFaultCode;
  /** Plain words: what failed, where, and what to do. */
  message: string;
  /** The underlying error's code (`SQLITE_FULL`, `ENOSPC`, ...). */
  cause: string;
  /** When the fault was first seen (ISO 8601). */
  since: string;
}

const DISK_FULL = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT', 'EFBIG']);
const READ_ONLY = new Set(['SQLITE_READONLY', 'EROFS', 'EACCES', 'EPERM', 'SQLITE_CANTOPEN']);
const IO_ERROR = new Set(['EIO', 'SQLITE_IOERR', 'SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/**
 * The fault an error means, or null when it is not a storage fault (a bug, a constraint).
 * SQLite's extended codes (`SQLITE_IOERR_FSYNC`, `SQLITE_READONLY_DBMOVED`, ...) count as their
 * primary code.
 */
export function storageFaultCodeOf(error: unknown): { code: StorageFaultCode; cause: string } | null {
  const raw = (error as { code?: unknown } | null)?.code;
  if (typeof raw !== 'string') return null;
  // The shared-memory index could not grow: on Linux that is a full disk.
  if (raw === 'SQLITE_IOERR_SHMSIZE') return { code: 'disk_full', cause: raw };
  const primary = raw.startsWith('SQLITE_') ? raw.split('_').slice(0, 2).join('_') : raw;
  if (DISK_FULL.has(primary)) return { code: 'disk_full', cause: raw };
  if (READ_ONLY.has(primary)) return { code: 'read_only', cause: raw };
  if (IO_ERROR.has(primary)) return { code: 'io_error', cause: raw };
  return null;
}

/** What a webhook refused because of a storage fault is answered, and the JSON's `error`. */
export const STORAGE_FAULT_STATUS = 503;

/**
 * Thrown (as a rejected write) while the store cannot be written: the caller answers 503 with
 * `code` and `message`, and need not log it (the fault was reported once when it began).
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  readonly code: StorageFaultCode;
  readonly fault: StorageFault;
  constructor(fault: StorageFault) {
    super(fault.message);
    this.code = fault.code;
    this.fault = fault;
  }
}

export function isStorageUnavailable(error: unknown): error is StorageUnavailableError {
  return error instanceof StorageUnavailableError;
}

function describe(code: StorageFaultCode, cause: string, where: string): string {
  if (code === 'disk_full') {
    return `the disk holding ${where} is full (${cause}): webhooks are answered 503 and not acknowledged (Omise retries them) until space is freed; free some space and it recovers by itself`;
  }
  if (code === 'database_unavailable') {
    return `the database ${where} cannot be reached (${cause}): webhooks are answered 503 and not acknowledged (Omise retries them) until it is back; check that PostgreSQL is running and reachable from here; it recovers by itself`;
  }
  if (code === 'read_only') {
    return `${where} cannot be written (${cause}): webhooks are answered 503 and not acknowledged until it is writable again; check its permissions and the file system`;
  }
  return `writing ${where} failed with an I/O error (${cause}): webhooks are answered 503 and not acknowledged until a write succeeds again; check the disk`;
}

export type StorageHealthListener = (fault: StorageFault | null) => void;

/**
 * The one place that knows whether storage is faulted. `fail` and `recover` notify the
 * listeners only on a change, so a fault is reported once, not once per refused webhook.
 */
export class StorageHealth {
  #fault: StorageFault | null = null;
  readonly #listeners = new Set<StorageHealthListener>();
  readonly #where: string;
  readonly #now: () => number;
  readonly #classify: StorageFaultClassifier;

  constructor(options: { where: string; now?: () => number; classify?: StorageFaultClassifier }) {
    this.#where = options.where;
    this.#now = options.now ?? Date.now;
    this.#classify = options.classify ?? storageFaultCodeOf;
  }

  get fault(): StorageFault | null {
    return this.#fault;
  }

  /**
   * Records the error if it is a storage fault and returns the error to reject with (a
   * `StorageUnavailableError`); returns null when it is not one.
   */
  fail(error: unknown): StorageUnavailableError | null {
    if (isStorageUnavailable(error)) return error;
    const kind = this.#classify(error);
    if (kind === null) return null;
    if (this.#fault === null) {
      this.#fault = {
        code: kind.code,
        cause: kind.cause,
        message: describe(kind.code, kind.cause, this.#where),
        since: new Date(this.#now()).toISOString(),
      };
      for (const listener of this.#listeners) listener(this.#fault);
    }
    return new StorageUnavailableError(this.#fault);
  }

  /** A write succeeded after a fault: clear it. */
  recover(): void {
    if (this.#fault === null) return;
    this.#fault = null;
    for (const listener of this.#listeners) listener(null);
  }

  /** The error to refuse a write with while faulted. */
  unavailable(): StorageUnavailableError | null {
    return this.#fault ? new StorageUnavailableError(this.#fault) : null;
  }

  subscribe(listener: StorageHealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
