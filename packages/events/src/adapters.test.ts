// Runs the one adapter contract (adapters.contract.ts) against every adapter: the Node middleware
// behind a real node:http server, the fetch handler in process, and the Fastify plugin inside a
// real Fastify 5 (a dev dependency only; the package itself does not depend on it) listening on
// port 0. Then what is particular to each.

import assert from 'node:assert/strict';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { fixture, NOW_SEC, rawRequest, SECRET, signedHeaders } from '../test/test-kit.js';
import { type AdapterHarness, describeAdapterContract, type SentRequest } from './adapters.contract.js';
import { createFetchHandler } from './create-fetch-handler.js';
import { createNodeMiddleware } from './create-node-middleware.js';
import { createOmiseWebhooks } from './create-omise-webhooks.js';
import { OmiseWebhookError } from './errors.js';
import { omiseWebhooksFastify } from './omise-webhooks-fastify.js';

const PATH = '/omise/webhook';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function postOverHttp(baseUrl: string, request: SentRequest) {
  const response = await rawRequest({
    url: `${baseUrl}${PATH}`,
    headers: request.headers,
    body: request.body,
    chunked: request.chunked ?? false,
  });
  return {
    status: response.status,
    contentType: response.headers['content-type'] as string | undefined,
    body: response.body,
  };
}

/** What express.json() does, reduced: read the stream, parse it, put the object on req.body. */
function jsonBodyParser(request: IncomingMessage & { body?: unknown }, next: () => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    request.body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    next();
  });
}

const nodeHarness: AdapterHarness = {
  name: 'createNodeMiddleware (node:http)',
  parsedBodyAdvice:
    /JSON body parser \(express\.json\(\), bodyParser\.json\(\)\) ran before.*app\.post\('\/omise\/webhook', express\.raw\(\{ type: 'application\/json' \}\), createNodeMiddleware\(webhooks\)\)/,
  async start(webhooks, { bodyParserFirst }) {
    const middleware = createNodeMiddleware(webhooks, { path: PATH });
    const server = createServer((request, response) => {
      const run = () => void middleware(request, response);
      if (bodyParserFirst) jsonBodyParser(request, run);
      else run();
    });
    const baseUrl = await listen(server);
    return { post: (request) => postOverHttp(baseUrl, request), close: () => closeServer(server) };
  },
};

const fetchHarness: AdapterHarness = {
  name: 'createFetchHandler (Request => Response)',
  parsedBodyAdvice: /request\.bodyUsed is true.*in Hono, pass c\.req\.raw without calling c\.req\.json\(\) first/,
  async start(webhooks, { bodyParserFirst }) {
    const handler = createFetchHandler(webhooks, { path: PATH });
    return {
      async post({ headers, body, chunked }) {
        const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : new Uint8Array(body);
        const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers: new Headers(headers) };
        if (chunked) {
          // A stream has no length until it is read, like a chunked request.
          const middle = Math.floor(bytes.length / 2);
          init.body = new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(bytes.slice(0, middle));
              controller.enqueue(bytes.slice(middle));
              controller.close();
            },
          });
          init.duplex = 'half';
        } else {
          init.body = bytes;
          (init.headers as Headers).set('content-length', String(bytes.length));
        }
        const request = new Request(`http://127.0.0.1${PATH}`, init);
        if (bodyParserFirst) await request.json();
        const response = await handler(request);
        return {
          status: response.status,
          contentType: response.headers.get('content-type') ?? undefined,
          body: await response.text(),
        };
      },
      close: async () => {},
    };
  },
};

/** Reads a body stream as an app's own JSON handling would: for the "something parsed it first" case. */
async function parseStreamAsJson(body: unknown): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as IncomingMessage) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function listenFastify(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const fastifyHarness: AdapterHarness = {
  name: 'omiseWebhooksFastify (in Fastify 5)',
  parsedBodyAdvice:
    /request\.body is already an object.*fastify\.register\(omiseWebhooksFastify, \{ webhooks \}\), not wrapped in fastify-plugin/,
  async start(webhooks, { bodyParserFirst }) {
    const app = Fastify();
    if (bodyParserFirst) {
      // An app-wide hook that parses whatever the body is: it runs before every route's handler.
      app.addHook('preValidation', async (request) => {
        request.body = await parseStreamAsJson(request.body);
      });
    }
    await app.register(omiseWebhooksFastify, { webhooks });
    const baseUrl = await listenFastify(app);
    return { post: (request) => postOverHttp(baseUrl, request), close: () => app.close() };
  },
};

describeAdapterContract(nodeHarness);
describeAdapterContract(fetchHarness);
describeAdapterContract(fastifyHarness);

const CHARGE_COMPLETE = fixture('charge.complete.json');
const receiver = () => {
  const webhooks = createOmiseWebhooks({ secret: SECRET, now: () => NOW_SEC * 1000 });
  const ids: string[] = [];
  webhooks.on('charge.complete', (event) => {
    ids.push(event.data.id);
  });
  return { webhooks, ids };
};

/** POSTs the signed charge.complete fixture, byte for byte, to `url`. */
const postSignedCharge = (url: string) =>
  rawRequest({ url, headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }), body: CHARGE_COMPLETE });

describe('createNodeMiddleware, beyond the contract', () => {
  const serve = async (handler: (request: IncomingMessage, response: ServerResponse) => void) => {
    const server = createServer(handler);
    return { baseUrl: await listen(server), close: () => closeServer(server) };
  };

  it('uses req.body when it holds the raw bytes (express.raw()) or text (express.text())', async () => {
    for (const asText of [false, true]) {
      const { webhooks, ids } = receiver();
      const middleware = createNodeMiddleware(webhooks);
      const { baseUrl, close } = await serve((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          const bytes = Buffer.concat(chunks);
          Object.assign(request, { body: asText ? bytes.toString('utf8') : bytes });
          void middleware(request, response);
        });
      });
      try {
        const response = await postSignedCharge(`${baseUrl}/anything`);
        assert.equal(response.status, 200, response.body);
        assert.deepEqual(ids, ['chrg_test_5ygr5q0ekcwwfgyq1rr']);
      } finally {
        await close();
      }
    }
  });

  it('reads the stream when an earlier JSON parser skipped the request and left req.body = {} (Express 4)', async () => {
    const { webhooks, ids } = receiver();
    const middleware = createNodeMiddleware(webhooks);
    const { baseUrl, close } = await serve((request, response) => {
      Object.assign(request, { body: {} });
      void middleware(request, response);
    });
    try {
      const response = await postSignedCharge(`${baseUrl}${PATH}`);
      assert.equal(response.status, 200, response.body);
      assert.deepEqual(ids, ['chrg_test_5ygr5q0ekcwwfgyq1rr']);
    } finally {
      await close();
    }
  });

  it('with a path: 405 for other methods, next() or onUnhandledRequest (default 404) for other paths', async () => {
    const { webhooks } = receiver();
    const withNext = createNodeMiddleware(webhooks, { path: PATH });
    const plain = createNodeMiddleware(webhooks, { path: PATH });
    const custom = createNodeMiddleware(webhooks, {
      path: PATH,
      onUnhandledRequest: (_request, response) => {
        response.statusCode = 418;
        response.end('teapot');
      },
    });
    const { baseUrl, close } = await serve((request, response) => {
      if (request.url?.startsWith('/next')) {
        void withNext(request, response, () => {
          response.statusCode = 299;
          response.end('next');
        });
      } else if (request.url?.startsWith('/custom')) void custom(request, response);
      else void plain(request, response);
    });
    try {
      const get = await rawRequest({ url: `${baseUrl}${PATH}?x=1`, method: 'GET' });
      assert.equal(get.status, 405);
      assert.equal(get.headers.allow, 'POST');
      assert.equal(JSON.parse(get.body).error, 'method_not_allowed');
      assert.equal((await rawRequest({ url: `${baseUrl}/other`, body: '{}' })).status, 404);
      assert.equal((await rawRequest({ url: `${baseUrl}/next`, body: '{}' })).body, 'next');
      assert.equal((await rawRequest({ url: `${baseUrl}/custom`, body: '{}' })).body, 'teapot');
    } finally {
      await close();
    }
  });

  it('matches the path on req.originalUrl, as Express keeps it under a mount path', async () => {
    const { webhooks, ids } = receiver();
    const middleware = createNodeMiddleware(webhooks, { path: PATH });
    const { baseUrl, close } = await serve((request, response) => {
      // app.use('/omise', router) hands the router url '/webhook' and keeps originalUrl.
      Object.assign(request, { originalUrl: request.url, url: '/webhook' });
      void middleware(request, response);
    });
    try {
      const response = await postSignedCharge(`${baseUrl}${PATH}`);
      assert.equal(response.status, 200, response.body);
      assert.deepEqual(ids, ['chrg_test_5ygr5q0ekcwwfgyq1rr']);
    } finally {
      await close();
    }
  });

  it('closes the connection after refusing a body it did not read', async () => {
    const webhooks = createOmiseWebhooks({ secret: SECRET, maxBodyBytes: 16, now: () => NOW_SEC * 1000 });
    const middleware = createNodeMiddleware(webhooks);
    const { baseUrl, close } = await serve((request, response) => void middleware(request, response));
    try {
      const response = await rawRequest({ url: `${baseUrl}${PATH}`, body: 'x'.repeat(100_000) });
      assert.equal(response.status, 413);
      assert.equal(response.headers.connection, 'close');
    } finally {
      await close();
    }
  });

  it('gives up quietly when the sender goes away in the middle of the body', async () => {
    const { webhooks, ids } = receiver();
    const reported: string[] = [];
    webhooks.onError((error) => {
      reported.push(error.code);
    });
    const middleware = createNodeMiddleware(webhooks);
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let finished!: () => void;
    const middlewareDone = new Promise<void>((resolve) => {
      finished = resolve;
    });
    const { baseUrl, close } = await serve((request, response) => {
      middleware(request, response).then(finished, finished);
      request.once('data', () => arrived());
    });
    try {
      const url = new URL(`${baseUrl}${PATH}`);
      const outgoing = httpRequest({
        host: url.hostname,
        port: url.port,
        path: PATH,
        method: 'POST',
        headers: { 'content-length': '1000' },
      });
      outgoing.on('error', () => {});
      outgoing.write('{"object":');
      await requestArrived;
      outgoing.destroy();
      await middlewareDone;
      assert.deepEqual(ids, []);
      assert.deepEqual(reported, [], 'nothing to report: no one is waiting for an answer');
    } finally {
      await close();
    }
  });

  it('passes a bug (an error that is not an OmiseWebhookError) to next(error)', async () => {
    const webhooks = {
      ...createOmiseWebhooks({ secret: SECRET }),
      receive: () => Promise.reject(new RangeError('a bug')),
    };
    const middleware = createNodeMiddleware(webhooks);
    let passed: unknown;
    const { baseUrl, close } = await serve((request, response) => {
      void middleware(request, response, (error) => {
        passed = error;
        response.statusCode = 500;
        response.end();
      });
    });
    try {
      await rawRequest({ url: `${baseUrl}${PATH}`, body: '{}' });
      assert.ok(passed instanceof RangeError);
    } finally {
      await close();
    }
  });
});

describe('createFetchHandler, beyond the contract', () => {
  it('answers 405 to other methods and 404 to other paths when given a path', async () => {
    const { webhooks } = receiver();
    const handler = createFetchHandler(webhooks, { path: PATH });
    const get = await handler(new Request(`http://localhost${PATH}`));
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    const other = await handler(new Request('http://localhost/elsewhere', { method: 'POST', body: '{}' }));
    assert.equal(other.status, 404);
  });

  it('handles any path when given none, as a Next.js route file does', async () => {
    const { webhooks, ids } = receiver();
    const POST = createFetchHandler(webhooks);
    const response = await POST(
      new Request('http://localhost/api/omise/webhook', {
        method: 'POST',
        headers: signedHeaders({ body: CHARGE_COMPLETE, secrets: [SECRET] }),
        body: new Uint8Array(CHARGE_COMPLETE),
      }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(ids, ['chrg_test_5ygr5q0ekcwwfgyq1rr']);
  });
});

describe('omiseWebhooksFastify, beyond the contract', () => {
  it("keeps the raw body for its own route only: the app's other routes still get parsed JSON", async () => {
    const { webhooks, ids } = receiver();
    const fastify = Fastify();
    let otherBody: unknown;
    fastify.post('/other', async (request, reply) => {
      otherBody = request.body;
      return reply.send('ok');
    });
    await fastify.register(omiseWebhooksFastify, { webhooks });
    const baseUrl = await listenFastify(fastify);
    try {
      const webhook = await postSignedCharge(`${baseUrl}${PATH}`);
      assert.equal(webhook.status, 200, webhook.body);
      assert.deepEqual(ids, ['chrg_test_5ygr5q0ekcwwfgyq1rr']);
      await rawRequest({ url: `${baseUrl}/other`, headers: [['Content-Type', 'application/json']], body: '{"a":1}' });
      assert.deepEqual(otherBody, { a: 1 });
    } finally {
      await fastify.close();
    }
  });

  it('replaces a custom JSON parser from a parent scope inside its own scope instead of failing to register', async () => {
    const { webhooks } = receiver();
    const fastify = Fastify();
    // The app's own JSON parser, in place of Fastify's: a child scope inherits it.
    fastify.removeContentTypeParser('application/json');
    fastify.addContentTypeParser('application/json', (_request, payload, done) => {
      parseStreamAsJson(payload).then((body) => done(null, body), done);
    });
    await fastify.register(omiseWebhooksFastify, { webhooks, path: '/hooks/omise' });
    await fastify.ready();
    assert.ok(fastify.hasRoute({ method: 'POST', url: '/hooks/omise' }));
    const baseUrl = await listenFastify(fastify);
    try {
      const response = await postSignedCharge(`${baseUrl}/hooks/omise`);
      assert.equal(response.status, 200, response.body);
    } finally {
      await fastify.close();
    }
  });

  it('refuses to register without webhooks with invalid_options, saying how to call it', async () => {
    for (const options of [{}, { webhooks: null }, { webhooks: {} }]) {
      const fastify = Fastify();
      await assert.rejects(
        async () => {
          await fastify.register(omiseWebhooksFastify, options as never);
        },
        (error: unknown) =>
          error instanceof OmiseWebhookError &&
          error.code === 'invalid_options' &&
          /omiseWebhooksFastify needs \{ webhooks \}.*fastify\.register\(omiseWebhooksFastify, \{ webhooks \}\)/.test(
            error.message,
          ),
      );
    }
  });
});
