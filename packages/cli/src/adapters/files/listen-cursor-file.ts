import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListenCursor } from '../../core/listen.js';
import { replaceFileDurably } from './durable-file.js';

interface CursorFile {
  version: 1;
  /** The team server's inspector URL: a position belongs to that server's store. */
  from: string;
  cursor: string;
  savedAt: string;
}

/** `<log dir>/listen/<name>.json`: a name keeps to letters, digits, `.`, `_` and `-`, so it cannot leave the folder. */
export function listenCursorPath(logDir: string, name: string): string {
  return join(logDir, 'listen', `${name}.json`);
}

/**
 * `listen`'s position in a small JSON file, written atomically and durably
 * (`replaceFileDurably`), so after a crash or a SIGKILL the file holds either
 * the previous position or the new one, never half of one. A position saved for another
 * `--from` is not used (a position belongs to one store); `ignoredReason` says why.
 */
export class ListenCursorFile implements ListenCursor {
  readonly #file: string;
  readonly #from: string;
  #ignoredReason: string | null = null;

  constructor(options: { file: string; from: string }) {
    this.#file = options.file;
    this.#from = options.from;
  }

  get file(): string {
    return this.#file;
  }

  /** Why a saved position was not used, after `load` (another server, an unreadable file), or null. */
  get ignoredReason(): string | null {
    return this.#ignoredReason;
  }

  async load(): Promise<string | null> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as Partial<CursorFile>;
      if (parsed.version !== 1 || typeof parsed.cursor !== 'string' || typeof parsed.from !== 'string') {
        this.#ignoredReason = `${this.#file} is not a listen position file`;
        return null;
      }
      if (parsed.from !== this.#from) {
        this.#ignoredReason = `${this.#file} holds a position on ${parsed.from}, not ${this.#from}`;
        return null;
      }
      return parsed.cursor;
    } catch {
      this.#ignoredReason = `${this.#file} is not JSON`;
      return null;
    }
  }

  async save(cursor: string): Promise<void> {
    const data: CursorFile = { version: 1, from: this.#from, cursor, savedAt: new Date().toISOString() };
    await replaceFileDurably(this.#file, `${JSON.stringify(data)}\n`);
  }
}
