import { type SseMessage, SseParser } from '../core/sse-parser.js';

export type { SseMessage };

/**
 * Reads a `text/event-stream` body message by message, as a browser's EventSource would, so
 * tests (and the benchmark) can wait for a particular message instead of sleeping.
 */
export class SseReader {
  readonly messages: SseMessage[] = [];
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #parser = new SseParser();
  #done = false;
  /** A read that outlived a timeout is kept, so its chunk is not lost. */
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** Resolves with the first message (counting ones already read) that matches, or rejects after `timeoutMs`. */
  async waitFor(predicate: (message: SseMessage) => boolean, timeoutMs = 5000): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (let index = 0; ; index++) {
      while (index >= this.messages.length) {
        if (this.#done) throw new Error(`the stream ended before a matching message; got ${this.#describe()}`);
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${this.#describe()}`);
        await this.#readMore(remaining);
      }
      const message = this.messages[index] as SseMessage;
      if (predicate(message)) return message;
    }
  }

  /** Reads until the stream ends (the server closed it). */
  async untilClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#done) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`the stream was still open after ${timeoutMs} ms`);
      await this.#readMore(remaining);
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }

  #describe(): string {
    return JSON.stringify(this.messages.map((m) => `${m.event} ${m.id ?? ''} ${m.data}`));
  }

  async #readMore(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    this.#pending ??= this.#reader.read();
    const result = await Promise.race([this.#pending, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') return;
    this.#pending = null;
    if (result.done) {
      this.#done = true;
      return;
    }
    this.messages.push(...this.#parser.push(this.#decoder.decode(result.value, { stream: true })));
  }
}
