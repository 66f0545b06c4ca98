// A stand-in for Fastify, just big enough to run the Fastify plugin over real HTTP. Fastify is not
// installed in this repository, so this follows its documented behaviour (and its source, lib/
// content-type-parser.js) for the parts the plugin touches:
// - a plugin given to `register` runs in a child scope that starts with a copy of the parent's
//   content-type parsers and hooks; what it adds stays in that scope;
// - `application/json` and `text/plain` have default parsers that may be overridden once; adding a
//   parser for a type that already has a custom one throws FST_ERR_CTP_ALREADY_PRESENT;
// - a parser without `parseAs` is called as (request, payload stream, done); done(error) answers with
//   error.statusCode and `connection: close`; done(null, body) sets request.body;
// - POST with neither a content type nor a body skips parsing; an unknown content type is 415;
// - preValidation hooks run after parsing, before the handler.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Done = (error: Error | null, body?: unknown) => void;
type Parser = (request: FakeRequest, payload: IncomingMessage, done: Done) => void;
type Hook = (request: FakeRequest, reply: FakeReply) => Promise<void>;
type Handler = (request: FakeRequest, reply: FakeReply) => Promise<unknown>;
type Plugin<O> = (instance: FakeFastifyScope, options: O) => Promise<void>;

export interface FakeRequest {
  body: unknown;
  headers: IncomingMessage['headers'];
  raw: IncomingMessage;
}

interface ParserEntry {
  parser: Parser;
  isDefault: boolean;
}

export class FakeReply {
  statusCode = 200;
  readonly headers = new Map<string, string>();
  sent = false;

  constructor(private readonly send_: (status: number, headers: Map<string, string>, body: string) => void) {}

  code(status: number): this {
    this.statusCode = status;
    return this;
  }

  header(name: string, value: string): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }

  send(payload: string): this {
    if (this.sent) throw new Error('FST_ERR_REP_ALREADY_SENT: reply was already sent');
    this.sent = true;
    this.send_(this.statusCode, this.headers, payload);
    return this;
  }
}

class FastifyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 500,
  ) {
    super(message);
  }
}

export class FakeFastifyScope {
  constructor(
    protected readonly root: FakeFastify,
    readonly parsers: Map<string, ParserEntry>,
    readonly hooks: Hook[],
  ) {}

  addContentTypeParser(contentType: string | string[], parser: Parser): this {
    for (const type of ([] as string[]).concat(contentType)) {
      const key = type.trim().toLowerCase();
      if (this.parsers.get(key)?.isDefault === false) {
        throw new FastifyError('FST_ERR_CTP_ALREADY_PRESENT', `Content type parser '${key}' already present.`);
      }
      this.parsers.set(key, { parser, isDefault: false });
    }
    return this;
  }

  hasContentTypeParser(contentType: string): boolean {
    return this.parsers.has(contentType.trim().toLowerCase());
  }

  removeContentTypeParser(contentType: string | string[]): void {
    for (const type of ([] as string[]).concat(contentType)) this.parsers.delete(type.trim().toLowerCase());
  }

  addHook(name: 'preValidation', hook: Hook): this {
    if (name !== 'preValidation') throw new Error(`the fake supports only preValidation hooks, not ${name}`);
    this.hooks.push(hook);
    return this;
  }

  post(path: string, handler: Handler): this {
    this.root.routes.set(path, { handler, scope: this });
    return this;
  }

  async register<O>(plugin: Plugin<O>, options: O): Promise<void> {
    await plugin(new FakeFastifyScope(this.root, new Map(this.parsers), [...this.hooks]), options);
  }
}

export class FakeFastify extends FakeFastifyScope {
  readonly routes = new Map<string, { handler: Handler; scope: FakeFastifyScope }>();
  private server: Server | undefined;

  constructor() {
    super(undefined as unknown as FakeFastify, new Map(), []);
    (this as unknown as { root: FakeFastify }).root = this;
    this.parsers.set('application/json', { parser: defaultJsonParser, isDefault: true });
    this.parsers.set('text/plain', { parser: defaultTextParser, isDefault: true });
  }

  /** Listen on 127.0.0.1 on a free port; resolves with the base URL. */
  async listen(): Promise<string> {
    const server = createServer((raw, response) => {
      const reply = new FakeReply((status, headers, body) => {
        response.writeHead(status, {
          ...Object.fromEntries(headers),
          'content-length': String(Buffer.byteLength(body)),
        });
        response.end(body);
      });
      this.handle(raw, reply).catch((error: unknown) => {
        if (!reply.sent) sendError(reply, error);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server === undefined) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(raw: IncomingMessage, reply: FakeReply): Promise<void> {
    const path = (raw.url ?? '/').split('?')[0] as string;
    const route = raw.method === 'POST' ? this.routes.get(path) : undefined;
    if (route === undefined) {
      raw.resume();
      reply.code(404).header('content-type', 'application/json; charset=utf-8');
      reply.send(
        JSON.stringify({ message: `Route ${raw.method}:${path} not found`, error: 'Not Found', statusCode: 404 }),
      );
      return;
    }
    const request: FakeRequest = { body: undefined, headers: raw.headers, raw };
    const run = async (): Promise<void> => {
      for (const hook of route.scope.hooks) await hook(request, reply);
      await route.handler(request, reply);
    };

    const contentType = raw.headers['content-type'];
    const hasBody =
      raw.headers['transfer-encoding'] !== undefined ||
      (raw.headers['content-length'] !== undefined && raw.headers['content-length'] !== '0');
    if (contentType === undefined && !hasBody) return run();

    const essence = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const entry = route.scope.parsers.get(essence);
    if (entry === undefined) {
      raw.resume();
      return sendError(
        reply,
        new FastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', `Unsupported Media Type: ${contentType ?? ''}`, 415),
      );
    }
    await new Promise<void>((resolve, reject) => {
      entry.parser(request, raw, (error, body) => {
        if (error !== null) {
          reply.header('connection', 'close');
          sendError(reply, error);
          return resolve();
        }
        request.body = body;
        run().then(resolve, reject);
      });
    });
  }
}

function sendError(reply: FakeReply, error: unknown): void {
  const statusCode = (error as { statusCode?: number }).statusCode ?? 500;
  reply.code(statusCode).header('content-type', 'application/json; charset=utf-8');
  reply.send(
    JSON.stringify({
      statusCode,
      code: (error as { code?: string }).code,
      error: statusCode === 500 ? 'Internal Server Error' : 'Error',
      message: error instanceof Error ? error.message : String(error),
    }),
  );
}

function readAll(stream: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function defaultJsonParser(_request: FakeRequest, payload: IncomingMessage, done: Done): void {
  readAll(payload).then((text) => {
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        new FastifyError(
          'FST_ERR_CTP_INVALID_JSON_BODY',
          "Body is not valid JSON but content-type is set to 'application/json'",
          400,
        ),
      );
    }
  }, done);
}

function defaultTextParser(_request: FakeRequest, payload: IncomingMessage, done: Done): void {
  readAll(payload).then((text) => done(null, text), done);
}

/** Read the body stream the way an app's own JSON handling would: for the "parser already ran" case. */
export async function parseStreamAsJson(body: unknown): Promise<unknown> {
  return JSON.parse(await readAll(body as IncomingMessage));
}
