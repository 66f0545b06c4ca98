import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OmiseWebhookDelivery } from '@omise-webhook/events';

export type JsonObject = Record<string, unknown>;

/** An event the fake recorded; `seq` orders events created in the same second. */
export interface FakeEventRecord {
  seq: number;
  event: JsonObject & { id: string; key: string; created_at: string; webhook_deliveries: OmiseWebhookDelivery[] };
}

interface Snapshot {
  version: 1;
  nextSeq: number;
  objects: Record<string, JsonObject>;
  events: FakeEventRecord[];
  defaultRecipientId: string | null;
}

function emptySnapshot(): Snapshot {
  return { version: 1, nextSeq: 1, objects: {}, events: [], defaultRecipientId: null };
}

/**
 * What the fake Omise account holds: its objects by id and the events they caused. In memory,
 * and written to `file` (atomically, after every change) when one is given, so a fake started
 * again with the same file carries on where it stopped.
 */
export class FakeOmiseState {
  readonly #file: string | undefined;
  #data: Snapshot;
  readonly #eventIndex = new Map<string, FakeEventRecord>();
  #batchDepth = 0;

  constructor(options: { file?: string } = {}) {
    this.#file = options.file;
    this.#data = emptySnapshot();
    if (options.file) {
      let text: string | null = null;
      try {
        text = readFileSync(options.file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      if (text !== null) {
        const loaded = JSON.parse(text) as Snapshot;
        if (loaded.version !== 1)
          throw new Error(`${options.file} is not a fake Omise state file (version ${String(loaded.version)})`);
        this.#data = loaded;
      }
    }
    for (const record of this.#data.events) this.#eventIndex.set(record.event.id, record);
  }

  getObject<T = JsonObject>(id: string): T | undefined {
    return this.#data.objects[id] as T | undefined;
  }

  putObject(object: { id: string }): void {
    this.#data.objects[object.id] = structuredClone(object) as unknown as JsonObject;
    this.#save();
  }

  deleteObject(id: string): void {
    delete this.#data.objects[id];
    this.#save();
  }

  get defaultRecipientId(): string | null {
    return this.#data.defaultRecipientId;
  }

  set defaultRecipientId(id: string | null) {
    this.#data.defaultRecipientId = id;
    this.#save();
  }

  addEvent(event: FakeEventRecord['event']): FakeEventRecord {
    const record: FakeEventRecord = { seq: this.#data.nextSeq++, event: structuredClone(event) };
    this.#data.events.push(record);
    this.#eventIndex.set(event.id, record);
    this.#save();
    return record;
  }

  getEvent(id: string): FakeEventRecord | undefined {
    return this.#eventIndex.get(id);
  }

  /** Every event, oldest first (by `created_at`, then by the order they were recorded). */
  events(): FakeEventRecord[] {
    return [...this.#data.events].sort((a, b) => a.event.created_at.localeCompare(b.event.created_at) || a.seq - b.seq);
  }

  addDelivery(eventId: string, delivery: OmiseWebhookDelivery): void {
    const record = this.#eventIndex.get(eventId);
    if (!record) return;
    record.event.webhook_deliveries.push(delivery);
    this.#save();
  }

  /** Runs `change` and writes the file once at the end, e.g. while seeding hundreds of events. */
  batch<T>(change: () => T): T {
    this.#batchDepth += 1;
    try {
      return change();
    } finally {
      this.#batchDepth -= 1;
      this.#save();
    }
  }

  #save(): void {
    if (!this.#file || this.#batchDepth > 0) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    const temporary = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.#data));
    renameSync(temporary, this.#file);
  }
}
