import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser } from './sse-parser.js';

describe('SseParser', () => {
  it('reads messages split anywhere across chunks, with LF, CRLF or CR line ends', () => {
    const text =
      'retry: 1000\r\n\r\nid: 7\nevent: event\ndata: {"a":1}\n\n: keep-alive\r\rid: 8\r\nevent: position\r\ndata: x\r\ndata: y\r\n\r\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      const messages = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      assert.deepEqual(
        messages,
        [
          { id: '7', event: 'event', data: '{"a":1}' },
          { id: '8', event: 'position', data: 'x\ny' },
        ],
        `cut at ${cut}`,
      );
    }
  });

  it('names a message without event: "message", keeps a value without the space, ignores comments and unknown fields', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data:plain\nfoo: bar\n\n:comment\n\nid\ndata\n\n'), [
      { id: null, event: 'message', data: 'plain' },
      { id: '', event: 'message', data: '' },
    ]);
  });
});
