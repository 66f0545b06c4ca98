// The package as a user gets it: `npm pack` it, check what is in the tarball, install it into an
// empty project (by extracting it into node_modules; no network), and use it from there, both at
// run time and through its type declarations. publint checks the same tarball.
// Needs the built dist/ (`npm test` builds it first).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('the published package', () => {
  let work: string;
  let files: string[];
  let app: string;
  /** The package as installed into the empty project. */
  let installedPackage: string;

  before(() => {
    assert.ok(
      existsSync(join(packageDir, 'dist/index.js')),
      'dist/ is missing: run `npm run build -w @omise-webhook/events` (npm test does)',
    );
    work = mkdtempSync(join(tmpdir(), 'omise-events-pack-'));
    const output = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: packageDir,
      encoding: 'utf8',
    });
    const [packed] = JSON.parse(output) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(packed);
    files = packed.files.map((file) => file.path).sort();

    app = join(work, 'app');
    const scope = join(app, 'node_modules', '@omise-webhook');
    mkdirSync(scope, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', scope]);
    installedPackage = join(scope, 'events');
    renameSync(join(scope, 'package'), installedPackage);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'empty-app', private: true, type: 'module' }));
  });

  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('holds the built entries, their types, the README and the LICENSE, and no tests or fixtures', () => {
    for (const expected of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/node.js',
      'dist/node.d.ts',
      'dist/fastify.js',
      'dist/fastify.d.ts',
      'src/index.ts',
    ]) {
      assert.ok(files.includes(expected), `${expected} is in the tarball`);
    }
    const unexpected = files.filter(
      (path) =>
        /\.(test|test-d|contract)\.(ts|js|d\.ts)$/.test(path) ||
        path.startsWith('test/') ||
        path.endsWith('.tsbuildinfo'),
    );
    assert.deepEqual(unexpected, []);
    assert.deepEqual(
      files.filter((path) => !/^(dist|src)\//.test(path)),
      ['LICENSE', 'README.md', 'package.json'],
    );
  });

  it('has no runtime dependencies of any kind', () => {
    const manifest = JSON.parse(readFileSync(join(installedPackage, 'package.json'), 'utf8'));
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies']) {
      assert.equal(manifest[field], undefined, `package.json has no ${field}`);
    }
    assert.deepEqual(Object.keys(manifest.exports), ['.', './node', './fastify', './package.json']);
  });

  it('installs into an empty project and works from there, at run time and in TypeScript without @types/node', () => {
    // Run time: every entry loads, and a signed event goes through the receiver and the fetch handler.
    writeFileSync(
      join(app, 'main.mjs'),
      `import { createFetchHandler, createOmiseWebhooks, signOmisePayload } from '@omise-webhook/events';
import { createNodeMiddleware } from '@omise-webhook/events/node';
import { omiseWebhooksFastify } from '@omise-webhook/events/fastify';

const secret = btoa('a secret for the packaging test');
const body = JSON.stringify({ object: 'event', id: 'evnt_test_5pack', livemode: false, key: 'charge.complete', data: { object: 'charge', id: 'chrg_test_5pack' } });
const webhooks = createOmiseWebhooks({ secret });
const seen = [];
webhooks.on('charge.complete', (event) => { seen.push(event.data.id); });
const { headers } = await signOmisePayload({ payload: body, secret });
const response = await createFetchHandler(webhooks)(new Request('http://localhost/omise/webhook', { method: 'POST', headers, body }));
console.log(JSON.stringify({ status: response.status, body: await response.text(), seen, adapters: [typeof createNodeMiddleware, typeof omiseWebhooksFastify] }));
`,
    );
    const run = spawnSync(process.execPath, ['main.mjs'], {
      cwd: app,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      status: 200,
      body: '{"status":"handled","id":"evnt_test_5pack"}',
      seen: ['chrg_test_5pack'],
      adapters: ['function', 'function'],
    });

    // Types: the declarations stand alone (no @types/node, no fastify) and carry the narrowing.
    writeFileSync(
      join(app, 'main.ts'),
      `import { createFetchHandler, createOmiseWebhooks, type OmiseCharge } from '@omise-webhook/events';
import { createNodeMiddleware } from '@omise-webhook/events/node';
import { omiseWebhooksFastify } from '@omise-webhook/events/fastify';

const webhooks = createOmiseWebhooks({ secret: 'c2VjcmV0' });
webhooks.on('charge.complete', (event) => {
  const charge: OmiseCharge = event.data;
  console.log(charge.amount);
});
export const POST: (request: Request) => Promise<Response> = createFetchHandler(webhooks);
export const middleware = createNodeMiddleware(webhooks);
export const plugin = omiseWebhooksFastify;
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          strict: true,
          noEmit: true,
          types: [],
          skipLibCheck: false,
        },
        files: ['main.ts'],
      }),
    );
    const check = spawnSync(process.execPath, [tsc, '-p', app, '--pretty', 'false'], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  });

  it('is publint clean (strict: warnings count)', async () => {
    // The installed copy is exactly the tarball's content, so publint need not pack again.
    const { messages, pkg } = await publint({
      pkgDir: installedPackage,
      level: 'suggestion',
      strict: true,
      pack: false,
    });
    assert.deepEqual(
      messages.map((message) => `${message.type}: ${formatMessage(message, pkg, { color: false })}`),
      [],
    );
  });
});
