/** One server-sent message: its `id:` (null when it had none), `event:` name (`message` by default) and `data:`. */
export interface SseMessage {
  id: string | null;
  event: string;
  data: string;
}

/**
 * Splits a `text/event-stream` into messages as the HTML standard says (LF, CR or CRLF line
 * ends; `data:` lines joined with LF; comments ignored), fed text chunk by chunk as it arrives,
 * so a message split across reads comes out whole.
 *
 * @example
 * const parser = new SseParser();
 * parser.push('id: 7\nevent: event\ndata: {"id":"evnt_test_1"}\n\n'); // [{ id: '7', event: 'event', data: '{"id":"evnt_test_1"}' }]
 */
export class SseParser {
  #buffer = '';
  #id: string | null = null;
  #event = '';
  #data: string[] = [];
  #hasField = false;

  /** The complete messages the text finishes (none while a message is still incomplete). */
  push(text: string): SseMessage[] {
    this.#buffer += text;
    const messages: SseMessage[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.#buffer.length - 1)) break;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      if (line === '') {
        if (this.#hasField) {
          messages.push({ id: this.#id, event: this.#event || 'message', data: this.#data.join('\n') });
        }
        this.#id = null;
        this.#event = '';
        this.#data = [];
        this.#hasField = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') this.#id = value;
      else if (field === 'event') this.#event = value;
      else if (field === 'data') this.#data.push(value);
      else continue;
      this.#hasField = true;
    }
    return messages;
  }
}
