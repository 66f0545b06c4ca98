/**
 * Team mode as it runs: real `serve` processes (the built bin) on one real PostgreSQL database,
 * a real local forward target, and the failures the issue names: two instances under load, one
 * SIGKILLed mid-load, the database stopped and started, another instance's events on the live
 * stream, and `listen` SIGKILLed and restarted. Leases, timeouts and retries are short so each
 * case takes seconds. A fresh database per case; the pause/resume case has its own cluster.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import postgres from 'postgres';
import type { PostgresCluster } from '../../../../scripts/postgres-cluster.mjs';
import { findPostgresBinaries, startPostgresCluster } from '../../../../scripts/postgres-cluster.mjs';
import { eventBody } from '../testing/delivery-fixtures.js';
import { createTestDatabase, describeWithPostgres, type TestDatabase } from '../testing/postgres.js';
import {
  type CliProcess,
  loadAgent,
  postSigned,
  runPool,
  type ServeProcess,
  startCli,
  startServeProcess,
} from '../testing/serve-process.js';
import { SseReader } from '../testing/sse-reader.js';
import { type ReceivedRequest, startTargetServer, type TargetServer } from '../testing/target-server.js';
import { temporaryDirectory } from '../testing/test-server.js';

/** Short enough that a dead instance's claims come back within the test; longer than the timeout. */
const TEAM_ARGS = [
  '--forward-timeout',
  '1s',
  '--forward-lease',
  '2s',
  '--retry-schedule',
  '200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
] as const;

const UI_TOKEN = 'team-mode-token-0123456789';

let counter = 0;
/** A fresh event id (lower-case letters and digits, as Omise's) tagged with the case. */
function newId(tag: string): string {
  counter += 1;
  return `evnt_test_5${tag}${process.pid.toString(36)}x${counter.toString(36).padStart(5, '0')}`;
}

function idOf(request: ReceivedRequest): string {
  return (JSON.parse(request.body.toString('utf8')) as { id: string }).id;
}

/** Checks `condition` every 50 ms until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Team {
  db: TestDatabase;
  sql: postgres.Sql;
  target: TargetServer;
  a: ServeProcess;
  b: ServeProcess;
  close(): Promise<void>;
}

/** A fresh database, a forward target, and two instances on that database forwarding to it. */
async function startTeam(extraArgs: readonly string[] = []): Promise<Team> {
  const db = await createTestDatabase();
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const target = await startTargetServer();
  const args = ['--forward-to', target.url, ...TEAM_ARGS, ...extraArgs];
  // One after the other: the second finds the schema the first applied (concurrent starts are
  // the store's own test).
  const a = await startServeProcess({ store: db.url, args });
  const b = await startServeProcess({ store: db.url, args });
  return {
    db,
    sql,
    target,
    a,
    b,
    async close() {
      await Promise.all([a.stop(), b.stop()]);
      await target.close();
      await sql.end();
      await db.drop();
    },
  };
}

async function storedEvents(sql: postgres.Sql): Promise<Map<string, number>> {
  const rows = await sql<Array<{ event_id: string; delivery_count: number }>>`
    SELECT event_id, delivery_count FROM events ORDER BY seq`;
  return new Map(rows.map((row) => [row.event_id, row.delivery_count]));
}

async function undeliveredJobs(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM forward_jobs WHERE state <> 'delivered'`;
  return row?.n ?? -1;
}

describeWithPostgres('team mode: serve processes on one PostgreSQL database', () => {
  it('two instances under load: each event stored once, ids sent to both counted twice, each forwarded exactly once', async () => {
    const team = await startTeam();
    const { sql, target, a, b } = team;
    try {
      const onlyA = Array.from({ length: 150 }, () => newId('two'));
      const onlyB = Array.from({ length: 150 }, () => newId('two'));
      const both = Array.from({ length: 100 }, () => newId('two'));
      // Interleaved so both instances are writing at every moment; the shared ids reach both at once.
      const sends: Array<{ id: string; to: ServeProcess[] }> = [];
      for (let i = 0; i < 150; i++) {
        sends.push({ id: onlyA[i] as string, to: [a] }, { id: onlyB[i] as string, to: [b] });
        if (i < 100) sends.push({ id: both[i] as string, to: [a, b] });
      }
      const agentA = loadAgent(8);
      const agentB = loadAgent(8);
      const statuses = await runPool(sends, 16, async ({ id, to }) => {
        const body = eventBody({ eventId: id });
        const answers = await Promise.all(
          to.map((server) => postSigned(server.webhookUrl, body, server === a ? agentA : agentB)),
        );
        return answers.map((answer) => answer.status);
      });
      agentA.destroy();
      agentB.destroy();
      assert.deepEqual(
        statuses.filter((s) => s.some((status) => status !== 200)),
        [],
        'every delivery is acknowledged with 200, the second copy of a shared id too (never a 409 or 500)',
      );

      const stored = await storedEvents(sql);
      assert.equal(stored.size, 400);
      const expected = new Map<string, number>([
        ...onlyA.map((id) => [id, 1] as const),
        ...onlyB.map((id) => [id, 1] as const),
        ...both.map((id) => [id, 2] as const),
      ]);
      assert.deepEqual(new Map([...stored].sort()), new Map([...expected].sort()));

      // One forward job per event (not per delivery), each delivered once, to the one target.
      await target.waitForRequests(400);
      await until('every forward job delivered', async () => (await undeliveredJobs(sql)) === 0);
      const [jobs] = await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM forward_jobs`;
      assert.equal(jobs?.n, 400);
      const forwarded = target.requests.map(idOf);
      assert.equal(forwarded.length, 400, 'no forward sent twice');
      assert.deepEqual([...new Set(forwarded)].sort(), [...expected.keys()].sort());

      // Both instances count the whole database, not just what they received.
      for (const server of [a, b]) {
        const stats = (await (await fetch(`${server.inspectorUrl}api/stats`)).json()) as {
          byKey: Record<string, number>;
        };
        assert.deepEqual(stats.byKey, { 'charge.create': 400 }, server.inspectorUrl);
      }
    } finally {
      await team.close();
    }
  });

  it('one instance SIGKILLed mid-load: every acknowledged event is stored, and the other sends what the dead one had claimed', async () => {
    const team = await startTeam();
    const { sql, target, a, b } = team;
    try {
      // The target holds every forward unanswered until A is dead, so A dies holding leases.
      let gateOpen = false;
      const answered: string[] = [];
      target.respond = (request) => {
        if (!gateOpen) return 'hang';
        answered.push(idOf(request));
        return { status: 200, body: '{"ok":true}' };
      };
      const ids = Array.from({ length: 300 }, () => newId('kill'));
      const agentA = loadAgent(4);
      const agentB = loadAgent(4);
      let killed: Promise<unknown> | null = null;
      let leasedByA: string[] = [];
      const aOwner = `:${a.child.pid}:`;
      const acknowledged: string[] = [];
      const statuses = new Map<string, number>();
      await runPool(ids, 8, async (id, index) => {
        if (index === 150 && killed === null) {
          // Mid-load: once A holds some leases, SIGKILL it (no release, no goodbye).
          await until('instance A to claim forwards', async () => {
            const rows = await sql<Array<{ event_id: string }>>`
              SELECT event_id FROM forward_jobs WHERE position(${aOwner} in lease_owner) > 0`;
            return rows.length > 0;
          });
          killed = a.kill();
          await killed;
          const rows = await sql<Array<{ event_id: string }>>`
            SELECT event_id FROM forward_jobs WHERE state = 'pending' AND position(${aOwner} in lease_owner) > 0`;
          leasedByA = rows.map((row) => row.event_id);
          gateOpen = true;
        }
        // Half to each while A lives; A's share goes nowhere once it is dead (refused, not acknowledged).
        const server = index % 2 === 0 ? a : b;
        const answer = await postSigned(server.webhookUrl, eventBody({ eventId: id }), server === a ? agentA : agentB);
        statuses.set(id, answer.status);
        if (answer.status >= 200 && answer.status < 300) acknowledged.push(id);
      });
      agentA.destroy();
      agentB.destroy();
      const killResult = await a.exited;
      assert.equal(killResult.signal, 'SIGKILL');
      assert.ok(leasedByA.length > 0, 'A held leases when it died');
      assert.deepEqual(
        [...new Set(statuses.values())].filter((status) => status !== 200 && status !== 0),
        [],
        'every answer is a 200 or no answer at all (A dead)',
      );
      const toB = ids.filter((_, index) => index % 2 === 1);
      assert.deepEqual(
        toB.filter((id) => statuses.get(id) !== 200),
        [],
        'the living instance acknowledged everything sent to it',
      );

      const stored = await storedEvents(sql);
      assert.deepEqual(
        acknowledged.filter((id) => !stored.has(id)),
        [],
        'nothing acknowledged is lost',
      );
      // B takes over A's claims once their 2 s lease ends, and sends every stored event's forward.
      await until('every forward job delivered', async () => (await undeliveredJobs(sql)) === 0);
      const [ownerRow] = await sql<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM forward_jobs WHERE lease_owner IS NOT NULL`;
      assert.equal(ownerRow?.n, 0, 'no lease left behind');
      assert.deepEqual(
        leasedByA.filter((id) => !answered.includes(id)),
        [],
        'every forward the dead instance had claimed reached the target',
      );
      // Answered exactly once each (the hung attempts were never answered, so the target did not
      // handle them): at least once overall, duplicates only from sends cut short.
      assert.deepEqual([...answered].sort(), [...stored.keys()].sort());
    } finally {
      await team.close();
    }
  });

  it("shows an event received by one instance on the other's live stream within 1 s, and once on its own", async () => {
    const team = await startTeam();
    const { a, b } = team;
    try {
      const open = async (server: ServeProcess) => {
        const response = await fetch(`${server.inspectorUrl}api/stream`);
        assert.equal(response.status, 200);
        const stream = new SseReader(response.body as ReadableStream<Uint8Array>);
        await stream.waitFor((message) => message.event === 'ready');
        return stream;
      };
      const storedIds = (stream: SseReader) =>
        stream.messages.filter((m) => m.event === 'event.stored').map((m) => (JSON.parse(m.data) as { id: string }).id);
      const [onA, onB] = [await open(a), await open(b)];
      const sent: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = newId('sse');
        sent.push(id);
        const answer = await postSigned(a.webhookUrl, eventBody({ eventId: id, key: 'refund.create' }));
        assert.equal(answer.status, 200);
        const acknowledgedAt = performance.now();
        const message = await onB.waitFor(
          (m) => m.event === 'event.stored' && (JSON.parse(m.data) as { id: string }).id === id,
          1000,
        );
        const waited = performance.now() - acknowledgedAt;
        assert.ok(waited < 1000, `shown after ${Math.round(waited)} ms`);
        assert.equal((JSON.parse(message.data) as { key: string }).key, 'refund.create');
      }
      // A marker stored by B reaches A through A's feed follower, which reads the feed in order:
      // by then a second copy of A's own events (from the same follower) would have come first.
      const marker = newId('sse');
      assert.equal((await postSigned(b.webhookUrl, eventBody({ eventId: marker }))).status, 200);
      await onA.waitFor((m) => m.event === 'event.stored' && (JSON.parse(m.data) as { id: string }).id === marker);
      await onB.waitFor((m) => m.event === 'event.stored' && (JSON.parse(m.data) as { id: string }).id === marker);
      assert.deepEqual(storedIds(onA), [...sent, marker]);
      assert.deepEqual(storedIds(onB), [...sent, marker]);
      await onA.cancel();
      await onB.cancel();
    } finally {
      await team.close();
    }
  });

  it('listen on one instance, SIGKILLed and restarted while events keep arriving at the other: no gap, no repeat', async () => {
    const team = await startTeam(['--ui-token', UI_TOKEN]);
    const { a, b } = team;
    const local = await startTargetServer();
    try {
      const logDir = temporaryDirectory();
      const argv = [
        'listen',
        '--from',
        b.inspectorUrl,
        '--token',
        UI_TOKEN,
        '--forward-to',
        local.url,
        '--log-dir',
        logDir,
        '--name',
        'dee',
      ];
      const KILL_AT = 12;
      const TOTAL = 60;
      // The request in flight at the kill is never answered: it must come again, once; every
      // answered one exactly once, in the order the events were stored.
      const answered: string[] = [];
      local.respond = (request, index) => {
        if (index === KILL_AT) return 'hang';
        answered.push(idOf(request));
        return { status: 200 };
      };
      let listen: CliProcess = startCli(argv.slice());
      await listen.waitFor(/listening to /);
      const posted: string[] = [];
      const poster = (async () => {
        while (posted.length < TOTAL) {
          const id = newId('listen');
          const answer = await postSigned(a.webhookUrl, eventBody({ eventId: id }));
          assert.equal(answer.status, 200);
          posted.push(id);
        }
      })();
      await local.waitForRequests(KILL_AT + 1);
      assert.equal((await listen.kill()).signal, 'SIGKILL');
      const postedAtKill = posted.length;
      // A few events arrive while listen is dead (waiting on the posts, not on a clock).
      while (posted.length < Math.min(TOTAL, postedAtKill + 5)) await new Promise((resolve) => setImmediate(resolve));
      listen = startCli(argv.slice());
      // It resumes from its saved position, not from now.
      assert.match((await listen.waitFor(/listening to .*/))[0], /after position /);
      await poster;
      // listen sends in order: once the newest event is answered, a repeat or a skip has shown.
      const newest = posted[TOTAL - 1] as string;
      await until('listen to deliver the newest event', async () => answered.includes(newest));
      assert.deepEqual(answered, posted);
      assert.equal(idOf(local.requests[KILL_AT] as ReceivedRequest), posted[KILL_AT]);
      assert.equal(idOf(local.requests[KILL_AT + 1] as ReceivedRequest), posted[KILL_AT]);
      assert.equal((await listen.stop()).code, 0);
      assert.equal(local.requests.length, TOTAL + 1);
    } finally {
      await local.close();
      await team.close();
    }
  });
});

describeWithPostgres('team mode: the database stopped and started under load', () => {
  let cluster: PostgresCluster;
  before(async () => {
    if (!findPostgresBinaries()) throw new Error('this case starts its own cluster: install postgresql');
    cluster = await startPostgresCluster({ fsync: false });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('answers 503 while the database is down, 200 once it is back, and loses nothing it acknowledged', async () => {
    const serve = await startServeProcess({ store: cluster.url, args: [...TEAM_ARGS] });
    const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
    try {
      type Phase = 'up' | 'stopping' | 'down' | 'starting' | 'back';
      let phase: Phase = 'up';
      const answers: Array<{ id: string; status: number; error?: string; sentIn: Phase; answeredIn: Phase }> = [];
      let running = true;
      const agent = loadAgent(4);
      const loader = Promise.all(
        Array.from({ length: 4 }, async () => {
          while (running) {
            const id = newId('pause');
            const sentIn = phase;
            const { status, text } = await postSigned(serve.webhookUrl, eventBody({ eventId: id }), agent);
            const error = status === 503 ? (JSON.parse(text) as { error: string }).error : undefined;
            answers.push({ id, status, ...(error ? { error } : {}), sentIn, answeredIn: phase });
          }
        }),
      );
      const count = (predicate: (a: (typeof answers)[number]) => boolean) => answers.filter(predicate).length;
      await until('50 events acknowledged before the stop', async () => count((a) => a.status === 200) >= 50);
      phase = 'stopping';
      await cluster.pause();
      phase = 'down';
      await until(
        '20 answers to requests sent while the database was down',
        async () => count((a) => a.sentIn === 'down' && a.answeredIn === 'down') >= 20,
      );
      const health = await fetch(`${serve.webhookUrl.replace(/\/omise\/webhook$/, '')}/healthz`);
      assert.equal(health.status, 503);
      const { ok, error } = (await health.json()) as { ok: boolean; error: string };
      assert.deepEqual({ ok, error }, { ok: false, error: 'database_unavailable' });
      phase = 'starting';
      await cluster.resume();
      await until('/healthz to answer 200 again', async () => {
        const response = await fetch(`${serve.webhookUrl.replace(/\/omise\/webhook$/, '')}/healthz`);
        return response.status === 200;
      });
      phase = 'back';
      const backFrom = answers.length;
      await until('50 events acknowledged after the restart', async () => {
        return answers.slice(backFrom).filter((a) => a.sentIn === 'back' && a.status === 200).length >= 50;
      });
      running = false;
      await loader;
      agent.destroy();

      const whileDown = answers.filter((a) => a.sentIn === 'down' && a.answeredIn === 'down');
      assert.deepEqual(
        [...new Set(whileDown.map((a) => `${a.status} ${a.error}`))],
        ['503 database_unavailable'],
        'only 503s while down',
      );
      const afterBack = answers.filter((a) => a.sentIn === 'back');
      assert.deepEqual([...new Set(afterBack.map((a) => a.status))], [200], 'only 200s once healthy again');
      assert.deepEqual(
        [...new Set(answers.map((a) => a.status))].filter((status) => status !== 200 && status !== 503),
        [],
        'never a 500 or a dropped connection',
      );
      const stored = await storedEvents(sql);
      assert.deepEqual(
        answers.filter((a) => a.status === 200 && !stored.has(a.id)).map((a) => a.id),
        [],
        'nothing acknowledged is lost',
      );
    } finally {
      await serve.stop();
      await sql.end();
    }
  });
});
