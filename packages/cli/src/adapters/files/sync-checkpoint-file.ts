import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SyncCheckpoint } from '../../core/ports.js';
import { replaceFileDurably } from './durable-file.js';

/**
 * Which account and API a checkpoint belongs to: the API URL and a fingerprint of the key (never
 * the key), so syncing from the fake Omise does not move the checkpoint of the real one.
 */
export function checkpointScope(apiUrl: string, secretKey: string): string {
  const fingerprint = createHash('sha256').update(secretKey).digest('hex').slice(0, 12);
  return `${apiUrl.replace(/\/+$/, '')}#${fingerprint}`;
}

interface CheckpointFile {
  version: 1;
  scopes: Record<string, { syncedThrough: string; updatedAt: string }>;
}

/** The checkpoint in `<log dir>/sync-checkpoint.json`, one entry per API and key, written atomically. */
export class FileSyncCheckpoint implements SyncCheckpoint {
  readonly #file: string;
  readonly #scope: string;

  constructor(options: { file: string; scope: string }) {
    this.#file = options.file;
    this.#scope = options.scope;
  }

  async #read(): Promise<CheckpointFile> {
    try {
      const parsed = JSON.parse(await readFile(this.#file, 'utf8')) as CheckpointFile;
      if (parsed.version === 1 && parsed.scopes && typeof parsed.scopes === 'object') return parsed;
    } catch {
      // Missing or unreadable: start over; dedupe makes that safe.
    }
    return { version: 1, scopes: {} };
  }

  async load(): Promise<string | null> {
    return (await this.#read()).scopes[this.#scope]?.syncedThrough ?? null;
  }

  async save(syncedThrough: string): Promise<void> {
    const data = await this.#read();
    data.scopes[this.#scope] = { syncedThrough, updatedAt: new Date().toISOString() };
    await mkdir(dirname(this.#file), { recursive: true });
    await replaceFileDurably(this.#file, `${JSON.stringify(data, null, 2)}\n`);
  }
}

/** A checkpoint kept only while the process runs (for `serve --store memory --sync`). */
export class MemorySyncCheckpoint implements SyncCheckpoint {
  #value: string | null = null;
  async load(): Promise<string | null> {
    return this.#value;
  }
  async save(syncedThrough: string): Promise<void> {
    this.#value = syncedThrough;
  }
}
