import { closeSync, fdatasync, fstatSync, openSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { StorageHealth, StorageUnavailableError } from '../../core/storage-health.js';

export interface SqliteGroupCommitOptions {
  db: Database.Database;
  /** The database file, or `:memory:` (nothing to sync, no checkpointer thread). */
  filename: string;
  /** Where a full disk or an I/O error is recorded; while it holds a fault, writes are refused at once. */
  health: StorageHealth;
  /** Syncs the write-ahead log to disk; `fs.fdatasync` by default. */
  syncFile?: ((fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void) | undefined;
  /** Checkpoint from a worker thread every this many ms (default 200); 0 leaves checkpoints to SQLite. */
  checkpointIntervalMs?: number | undefined;
  /** Past this size (default 64 MiB) the checkpointer thread is asked to start the log over (see #checkLogSize). */
  maxLogBytes?: number | undefined;
  /** The checkpointer thread's script (tests give one that misbehaves). */
  checkpointerScript?: URL;
  /** Writes held for a restart of the log go on after this long even if the thread never answers (default 1 s). */
  longestHoldMs?: number;
  /** While faulted, how often to try whether the store can be written again (default 1 s). */
  recoveryProbeMs?: number | undefined;
  /** Free space needed before a probe counts as recovered (default 1 MiB), so it does not flap. */
  recoveryFreeBytes?: number | undefined;
  /** The connection was opened exclusive (see openDatabase): it is the only one, so no checkpointer thread. */
  exclusive?: boolean;
  /** Called before each batch's transaction (the text index waits for writes to pause). */
  beforeBatch?: () => void;
  /** Called when writes held for a restart of the log may go on (see `holdingWrites`). */
  afterHold?: () => void;
  /** The recovery probe remakes the schema with this, in case the fault lost part of it. */
  restoreSchema: () => void;
  /** The recovery probe's write: changes nothing, but needs a page of the log. */
  probeWrite: () => void;
}

/** A commit hook's own failure is its caller's to handle: it never affects the write. */
function announceCommitted(write: QueuedWrite, value: unknown): void {
  try {
    write.committed?.(value);
  } catch {}
}

/** What the checkpointer thread tells the store (see wal-checkpointer.worker.mjs). */
type CheckpointerMessage = { copied: number } | { type: 'hold' } | { type: 'restarted'; started: boolean };

interface QueuedWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Called with the value once the write is committed, before it is on disk. */
  committed?: ((value: unknown) => void) | undefined;
}

/**
 * The SQLite store's write path: a write's promise resolves only once the write-ahead log holding
 * it has been synced to disk, so an acknowledged event survives a crash of the process or of the
 * machine.
 *
 * Writes are group-committed: every write requested during one turn of the event loop
 * shares one transaction, and while a sync runs, writes wait and share one transaction when it
 * returns (so under load there is one commit per sync). The commit itself does not wait for the disk
 * (`synchronous=NORMAL`); instead the log file is synced with fdatasync (what SQLite itself uses
 * on Linux: the data and the size, not the timestamps) on libuv's thread pool and the
 * batch's promises resolve when that returns. So the event loop never blocks on the disk,
 * and the next batch commits while the previous one is being synced. One sync runs at a time
 * and covers every write committed before it started (see #afterDurable), so under load many
 * webhooks share one sync. If one write in a batch fails, each is redone in its own
 * transaction so only the failing one is refused.
 *
 * It also owns what keeps the log bounded (checkpoints and restarts of the log from a worker
 * thread) and what turns storage faults into `StorageUnavailableError` and recovers from them.
 */
export class SqliteGroupCommit {
  readonly #db: Database.Database;
  #queue: QueuedWrite[] = [];
  #flushScheduled = false;
  #closed = false;
  readonly #walPath: string | null;
  #walFd: number | null = null;
  readonly #syncFile: NonNullable<SqliteGroupCommitOptions['syncFile']>;
  #syncing = false;
  #waitingForSync: Array<(error: Error | null) => void> = [];
  #syncIdleWaiters: Array<() => void> = [];
  /** A log sync failed: a probe must checkpoint the log into the database file before writes resume. */
  #syncFailed = false;
  #checkpointer: Worker | null = null;
  #commits = 0;
  readonly #maxLogBytes: number;
  #backgroundCheckpoints = 0;
  #logRestarts = 0;
  /** The log file's size when the last restart was asked for (see #checkLogSize). */
  #logSizeAtRestart = 0;
  /**
   * A restart of the log under way in the checkpointer thread: 'copying' while it copies the
   * log and writes go on, 'holding' while writes wait for it to finish (see #checkLogSize).
   */
  #logRestart: 'copying' | 'holding' | null = null;
  #holdTimer: NodeJS.Timeout | null = null;
  readonly #longestHoldMs: number;
  readonly #checkpointerScript: URL;
  #restartWaiters: Array<() => void> = [];
  /** The checkpointer thread starts after this many commits: a store written a few times never needs it. */
  #checkpointerPlan: { filename: string; intervalMs: number; afterCommits: number } | null = null;
  readonly health: StorageHealth;
  readonly #directory: string | null;
  readonly #recoveryProbeMs: number;
  readonly #recoveryFreeBytes: number;
  #probeTimer: NodeJS.Timeout | null = null;
  readonly #beforeBatch: () => void;
  readonly #afterHold: () => void;
  readonly #restoreSchema: () => void;
  readonly #probeWrite: () => void;
  /**
   * The batch's transaction and a single write's, built once: `db.transaction(fn)` makes new
   * wrapper functions each time (about 2 KB of garbage per flush on the hot path).
   */
  readonly #runBatch: (batch: QueuedWrite[]) => unknown[];
  readonly #runAlone: (run: () => unknown) => unknown;

  constructor(options: SqliteGroupCommitOptions) {
    const { db, filename } = options;
    this.#db = db;
    this.#runBatch = db.transaction((batch: QueuedWrite[]) => batch.map((write) => write.run()));
    this.#runAlone = db.transaction((run: () => unknown) => run());
    this.health = options.health;
    this.#directory = filename === ':memory:' ? null : dirname(filename);
    this.#walPath = filename === ':memory:' ? null : `${filename}-wal`;
    this.#syncFile = options.syncFile ?? fdatasync;
    this.#maxLogBytes = options.maxLogBytes ?? 64 * 1024 * 1024;
    this.#recoveryProbeMs = options.recoveryProbeMs ?? 1_000;
    this.#recoveryFreeBytes = options.recoveryFreeBytes ?? 1024 * 1024;
    this.#beforeBatch = options.beforeBatch ?? (() => {});
    this.#afterHold = options.afterHold ?? (() => {});
    this.#longestHoldMs = options.longestHoldMs ?? 1_000;
    this.#checkpointerScript = options.checkpointerScript ?? new URL('./wal-checkpointer.worker.mjs', import.meta.url);
    this.#restoreSchema = options.restoreSchema;
    this.#probeWrite = options.probeWrite;
    const checkpointIntervalMs = options.checkpointIntervalMs ?? 200;
    // An exclusive connection is the only one: no checkpointer thread beside it.
    if (filename !== ':memory:' && checkpointIntervalMs > 0 && !options.exclusive) {
      this.#checkpointerPlan = { filename, intervalMs: checkpointIntervalMs, afterCommits: 50 };
    }
  }

  /**
   * Moves checkpoints (copying the log into the database file, then syncing it: tens of ms
   * here) off this connection, whose event loop answers webhooks: SQLite would otherwise run
   * one inside every thousandth page's commit and stall everything behind it. If the thread
   * cannot run, this connection checkpoints again as usual.
   */
  #startCheckpointer(filename: string, intervalMs: number): void {
    const worker = new Worker(this.#checkpointerScript, {
      workerData: { filename, intervalMs, maxLogBytes: this.#maxLogBytes },
    });
    worker.unref();
    this.#db.pragma('wal_autocheckpoint = 0');
    const fallBack = () => {
      if (this.#checkpointer !== worker) return;
      this.#checkpointer = null;
      this.#endLogRestart();
      if (!this.#closed) this.#db.pragma('wal_autocheckpoint = 1000');
    };
    worker.on('error', fallBack);
    worker.on('exit', fallBack);
    worker.on('message', (message: CheckpointerMessage) => {
      if ('copied' in message) this.#backgroundCheckpoints += 1;
      else if (message.type === 'hold') this.#holdWritesForRestart(worker);
      else {
        if (message.started) this.#logRestarts += 1;
        this.#endLogRestart();
      }
    });
    this.#checkpointer = worker;
  }

  /** Restarts of the log the checkpointer thread made (for tests and diagnostics). */
  get logRestarts(): number {
    return this.#logRestarts;
  }

  /** The checkpointer thread is starting the log over (copying it, or with writes held). */
  get restartingLog(): boolean {
    return this.#logRestart !== null;
  }

  /** Writes are waiting for the checkpointer thread to start the log over (a few ms). */
  get holdingWrites(): boolean {
    return this.#logRestart === 'holding';
  }

  /** Checkpoints that copied pages, made by the checkpointer thread (for tests and diagnostics). */
  get backgroundCheckpoints(): number {
    return this.#backgroundCheckpoints;
  }

  /**
   * Records a storage fault (full disk, I/O error, read-only file) and starts probing for
   * recovery; returns the error to refuse writes with, or null when `error` is not one.
   */
  noteFault(error: unknown): StorageUnavailableError | null {
    const refused = this.health.fail(error);
    if (refused) this.#scheduleProbe();
    return refused;
  }

  /** Whether the store's file system has `recoveryFreeBytes` free (true where it cannot tell). */
  hasFreeSpace(): boolean {
    if (this.#directory === null || this.#recoveryFreeBytes <= 0) return true;
    try {
      const fs = statfsSync(this.#directory);
      return fs.bavail * fs.bsize >= this.#recoveryFreeBytes;
    } catch {
      return true;
    }
  }

  #scheduleProbe(): void {
    if (this.#probeTimer !== null || this.#closed) return;
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      if (this.#closed) return;
      void this.#probe().then((recovered) => {
        if (this.#closed) return;
        if (recovered) this.health.recover();
        else this.#scheduleProbe();
      });
    }, this.#recoveryProbeMs);
    this.#probeTimer.unref();
  }

  /**
   * Whether the store can be written again: enough free space, the schema in place, the log
   * copied into the database file when a sync failed (the kernel may have dropped what it
   * held), and a small write synced to disk.
   */
  async #probe(): Promise<boolean> {
    try {
      if (!this.hasFreeSpace()) return false;
      this.#restoreSchema();
      if (this.#syncFailed && this.#walPath !== null) {
        const [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
        if (result && result.busy !== 0) return false;
      }
      this.#runAlone(this.#probeWrite);
      if (this.#walPath !== null) {
        this.#walFd ??= openSync(this.#walPath, 'r');
        const fd = this.#walFd;
        await new Promise<void>((resolve, reject) =>
          this.#syncFile(fd, (error) => (error ? reject(error) : resolve())),
        );
      }
      this.#syncFailed = false;
      return true;
    } catch {
      return false;
    }
  }

  #countCommit(): void {
    this.#commits += 1;
    // An fstat (a few µs) every 8th commit: the log cannot grow far past the limit in between.
    if (this.#checkpointer !== null && this.#commits % 8 === 0) this.#checkLogSize();
    const plan = this.#checkpointerPlan;
    if (plan === null) return;
    plan.afterCommits -= 1;
    if (plan.afterCommits > 0) return;
    this.#checkpointerPlan = null;
    this.#startCheckpointer(plan.filename, plan.intervalMs);
  }

  /**
   * SQLite starts the log over only at a write that finds every frame already copied, which the
   * checkpointer thread never achieves while writes keep arriving (each checkpoint leaves the
   * frames committed meanwhile). So under sustained load the log grows; past `maxLogBytes` the
   * thread is asked to start it over: it copies the log while writes go on, then this store holds
   * its writes (queued; the event loop keeps reading, checking and answering) while the thread
   * copies the last frames and makes the write that starts the log over. That hold is a few ms
   * (two syncs of the last frames' copy and one of the new log's header). Done here instead, as
   * it was, the copy and the syncs stopped the event loop for 2.5-7.5 ms (measured at 2,000
   * webhooks/s, where the log grows about 60 MB/s: once a second with the default 64 MiB).
   * Once the log has started over, the file keeps the size journal_size_limit truncates it to
   * (`maxLogBytes`) while new frames overwrite it from the start, so a file at the limit says
   * nothing: only a file grown past the size it had when the last restart was asked for means
   * the log filled it again. (Checking the size alone asked at every 64th commit for good after
   * the first time.)
   */
  #checkLogSize(): void {
    if (this.#walFd === null || this.#logRestart !== null || this.#checkpointer === null) return;
    const size = fstatSync(this.#walFd).size;
    // Smaller than at the last restart: the log started over and the file was truncated.
    if (size < this.#logSizeAtRestart) this.#logSizeAtRestart = size;
    if (size < this.#maxLogBytes || size <= this.#logSizeAtRestart) return;
    this.#logSizeAtRestart = size;
    this.#logRestart = 'copying';
    this.#checkpointer.postMessage({ type: 'restart' });
  }

  /**
   * The thread has copied most of the log (asked by #checkLogSize) or all of it (unasked, after
   * one of its checkpoints): hold writes while it makes the write that starts the log over.
   */
  #holdWritesForRestart(worker: Worker): void {
    if (this.#logRestart === 'holding' || this.#closed) return;
    this.#logRestart = 'holding';
    // Not unref'd: writes are waiting, so the process must not end before they are committed.
    this.#holdTimer = setTimeout(() => this.#endLogRestart(), this.#longestHoldMs);
    worker.postMessage({ type: 'held' });
  }

  /** The restart is over (or the thread is gone): commit what waited. */
  #endLogRestart(): void {
    if (this.#logRestart === null) return;
    const wasHolding = this.#logRestart === 'holding';
    this.#logRestart = null;
    if (this.#holdTimer !== null) clearTimeout(this.#holdTimer);
    this.#holdTimer = null;
    if (wasHolding && this.#queue.length > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#flush());
    }
    const waiters = this.#restartWaiters;
    this.#restartWaiters = [];
    for (const resolve of waiters) resolve();
    if (wasHolding) this.#afterHold();
  }

  /**
   * Queues a write for the next group commit. `committed` is called once it is committed (before
   * it is on disk); with `now`, the write is committed at the next turn even while a sync runs,
   * because its caller is waiting for that commit. While the checkpointer thread starts the log
   * over (`holdingWrites`, a few ms), every write waits, `now` or not.
   */
  write<T>(run: () => T, options: { committed?: (value: T) => void; now?: boolean } = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the event store is closed'));
    // While the disk is full (or failing), refuse at once: the probe finds out when it is back.
    const refused = this.health.unavailable();
    if (refused) return Promise.reject(refused);
    const { committed, now = false } = options;
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        resolve: resolve as (value: unknown) => void,
        reject,
        committed: committed as QueuedWrite['committed'],
      });
      // While a sync runs, writes wait in the queue: they could not be acknowledged before the
      // next sync anyway, and committing them together when it starts costs one commit instead
      // of one per turn of the event loop (a commit has a fixed cost of about 100 µs here).
      // A write whose caller waits for its commit (forwarding starts there) is committed now.
      if (!this.#flushScheduled && (!this.#syncing || now)) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    // Held for a restart of the log: #endLogRestart flushes them.
    if (this.#logRestart === 'holding') return;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    const refused = this.health.unavailable();
    if (refused) {
      for (const write of batch) write.reject(refused);
      return;
    }
    this.#beforeBatch();
    let values: unknown[];
    try {
      // The fast path: the whole batch in one transaction, one commit, one sync.
      values = this.#runBatch(batch);
    } catch (batchError) {
      // A full disk or an I/O error fails every write alike: refuse them all at once.
      const fault = this.noteFault(batchError);
      if (fault) {
        for (const write of batch) write.reject(fault);
        return;
      }
      // One write failed and the transaction was rolled back: redo each write in its own
      // transaction, so only the failing one is refused.
      for (const write of batch) {
        try {
          const value = this.#runAlone(write.run);
          this.#afterDurable((error) => (error ? write.reject(error) : write.resolve(value)));
          announceCommitted(write, value);
        } catch (error) {
          write.reject(this.noteFault(error) ?? error);
        }
      }
      return;
    }
    try {
      this.#countCommit();
    } catch (error) {
      // Housekeeping after the commit (the log's size check, starting the checkpointer thread) must
      // never fail the writes it follows; a storage fault is recorded, anything else ignored.
      this.noteFault(error);
    }
    this.#afterDurable((error) => {
      batch.forEach((write, index) => {
        if (error) write.reject(error);
        else write.resolve(values[index]);
      });
    });
    // After the sync has started, so what the callbacks do (forwarding) does not delay it.
    for (let index = 0; index < batch.length; index += 1) announceCommitted(batch[index] as QueuedWrite, values[index]);
  }

  /**
   * Calls back once everything committed so far is on disk (at once for `:memory:`).
   *
   * One sync at a time: a commit made while a sync is running may not be covered by it, so it
   * waits for the next one, which starts as soon as the running one returns and covers every
   * commit made meanwhile. Under load that is one sync per round for any number of writes,
   * instead of a queue of syncs each waiting for the one before.
   */
  #afterDurable(callback: (error: Error | null) => void): void {
    if (this.#walPath === null) {
      callback(null);
      return;
    }
    this.#waitingForSync.push(callback);
    if (!this.#syncing) this.#startSync();
  }

  #startSync(): void {
    const callbacks = this.#waitingForSync;
    this.#waitingForSync = [];
    this.#syncing = true;
    try {
      // The fd is opened lazily: the log file exists once the first transaction has committed.
      this.#walFd ??= openSync(this.#walPath as string, 'r');
    } catch (error) {
      this.#syncing = false;
      const refused = this.noteFault(error) ?? (error as Error);
      for (const callback of callbacks) callback(refused);
      return;
    }
    this.#syncFile(this.#walFd, (syncError) => {
      this.#syncing = false;
      // A failed sync may have lost what it covered: nothing it covered is acknowledged, and
      // the store stays faulted until a probe has checkpointed the log (see #probe).
      let error: Error | null = null;
      if (syncError) {
        error = this.noteFault(syncError) ?? syncError;
        this.#syncFailed = true;
      }
      for (const callback of callbacks) callback(error);
      // Commit what queued up during the sync (its callbacks join #waitingForSync), but at the
      // next check phase: the writes just resolved are answered in this callback's microtasks,
      // and committing first (about 0.1 ms a write) made every one of those answers wait for it.
      if (!this.#flushScheduled && this.#queue.length > 0) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
      if (this.#waitingForSync.length > 0) this.#startSync();
      else {
        const idle = this.#syncIdleWaiters;
        this.#syncIdleWaiters = [];
        for (const resolve of idle) resolve();
      }
    });
  }

  /** Resolves when no sync is running or waiting. */
  #syncsSettled(): Promise<void> {
    if (!this.#syncing && this.#waitingForSync.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#syncIdleWaiters.push(resolve));
  }

  /** Lets writes already asked for reach the disk, then stops the checkpointer thread and the probe. */
  async close(): Promise<void> {
    if (this.#closed) return;
    // A restart of the log under way ends first: writes it holds are then committed here.
    if (this.#logRestart !== null) await new Promise<void>((resolve) => this.#restartWaiters.push(resolve));
    if (this.#closed) return;
    if (this.#queue.length > 0) this.#flush();
    this.#closed = true;
    await this.#syncsSettled();
    const checkpointer = this.#checkpointer;
    if (checkpointer) {
      this.#checkpointer = null;
      const exited = new Promise((resolve) => checkpointer.once('exit', resolve));
      // Kept alive while it finishes: a last checkpoint, then its connection closes before ours.
      checkpointer.ref();
      checkpointer.postMessage('stop');
      await exited;
    }
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#probeTimer = null;
    if (this.#walFd !== null) closeSync(this.#walFd);
    this.#walFd = null;
  }
}
