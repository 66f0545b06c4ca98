/**
 * Group commit: writes that arrive while a group is being committed wait, and go together in
 * the next group, so a round trip and a commit (a WAL flush) are paid once per group rather
 * than once per write. The caller's `commit` does the database work and settles each entry.
 *
 * Entries with the same key (an event id) keep their call order: an entry whose key is in a
 * group still in flight waits for that group to finish, and so does every later entry with
 * that key; within one group they are handed over in call order.
 */
export interface GroupEntry<T, R> {
  readonly item: T;
  readonly key: string;
  readonly bytes: number;
  resolve(result: R): void;
  reject(error: unknown): void;
}

export interface GroupCommitOptions<T, R> {
  /** Commits a group and settles every entry in it (an entry it leaves unsettled is rejected with what it threw). */
  commit: (group: GroupEntry<T, R>[]) => Promise<void>;
  keyOf: (item: T) => string;
  bytesOf: (item: T) => number;
  /** At most this many entries in a group. */
  maxGroupSize: number;
  /** ... and at most this many bytes (a single larger entry still goes, alone). */
  maxGroupBytes: number;
  /** Groups committed at once (each on its own connection). */
  maxGroupsInFlight: number;
}

export class GroupCommit<T, R> {
  readonly #options: GroupCommitOptions<T, R>;
  #queue: GroupEntry<T, R>[] = [];
  #inFlight = 0;
  /** Keys in groups in flight, and how many of their entries. */
  readonly #busy = new Map<string, number>();
  #scheduled = false;
  #whenIdle: Array<() => void> = [];

  constructor(options: GroupCommitOptions<T, R>) {
    this.#options = options;
  }

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, key: this.#options.keyOf(item), bytes: this.#options.bytesOf(item), resolve, reject });
      // On the next turn, not now: writes that arrive in the same turn (one socket read can
      // hold many requests) start out together.
      if (!this.#scheduled && this.#inFlight < this.#options.maxGroupsInFlight) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#pump();
        });
      }
    });
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenIdle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#options.maxGroupsInFlight) {
      const group = this.#take();
      if (group.length === 0) break;
      void this.#run(group);
    }
    if (this.#queue.length === 0 && this.#inFlight === 0) {
      const waiting = this.#whenIdle;
      this.#whenIdle = [];
      for (const resolve of waiting) resolve();
    }
  }

  /** The next group: the oldest entries that may go now, within the bounds; the rest stay queued in order. */
  #take(): GroupEntry<T, R>[] {
    const { maxGroupSize, maxGroupBytes } = this.#options;
    const group: GroupEntry<T, R>[] = [];
    const rest: GroupEntry<T, R>[] = [];
    // A key left behind once must be left behind from then on, or a later entry would overtake it.
    const held = new Set<string>();
    let bytes = 0;
    let i = 0;
    for (; i < this.#queue.length; i++) {
      const entry = this.#queue[i] as GroupEntry<T, R>;
      if (held.has(entry.key) || this.#busy.has(entry.key)) {
        held.add(entry.key);
        rest.push(entry);
        continue;
      }
      // Full: the group ends here, so the oldest entries always go first.
      if (group.length >= maxGroupSize || (group.length > 0 && bytes + entry.bytes > maxGroupBytes)) break;
      group.push(entry);
      bytes += entry.bytes;
    }
    this.#queue = i < this.#queue.length ? [...rest, ...this.#queue.slice(i)] : rest;
    return group;
  }

  async #run(group: GroupEntry<T, R>[]): Promise<void> {
    this.#inFlight += 1;
    for (const { key } of group) this.#busy.set(key, (this.#busy.get(key) ?? 0) + 1);
    try {
      await this.#options.commit(group);
    } catch (error) {
      // Settling twice is a no-op: this only reaches the entries `commit` left unsettled.
      for (const entry of group) entry.reject(error);
    } finally {
      for (const { key } of group) {
        const left = (this.#busy.get(key) ?? 1) - 1;
        if (left === 0) this.#busy.delete(key);
        else this.#busy.set(key, left);
      }
      this.#inFlight -= 1;
      // At once: what queued up during this round trip is the next group.
      this.#pump();
    }
  }
}
