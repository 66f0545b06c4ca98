import { createHmac } from 'node:crypto';
import { startTestServer } from '../packages/cli/src/testing/test-server.ts';

const secret = Buffer.from('benchmark webhook secret 32 bytes').toString('base64');
const server = await startTestServer({ webhookSecrets: [secret], files: process.env.FILES !== '0' });
const make = (n: number) => {
  const id = `evnt_test_m${n.toString(36)}`;
  const body = `{\n  "object": "event",\n  "id": "${id}",\n  "livemode": false,\n  "location": "\\/events\\/${id}",\n  "key": "charge.create",\n  "data": {\n    "object": "charge",\n    "id": "chrg_test_${n}",\n    "transaction": "trxn_test_${n}",\n    "card": {\n      "object": "card",\n      "id": "card_test_x"\n    },\n    "description": "ค่าสินค้า"\n  },\n  "created_at": "2026-11-26T07:00:00Z"\n}`;
  const ts = String(Math.floor(Date.now() / 1000));
  return {
    body: Buffer.from(body),
    headers: [
      ['Content-Type', 'application/json'],
      ['Omise-Signature', createHmac('sha256', Buffer.from(secret, 'base64')).update(`${ts}.${body}`).digest('hex')],
      ['Omise-Signature-Timestamp', ts],
    ] as [string, string][],
  };
};
const reqs = Array.from({ length: 40000 }, (_, i) => make(i));
let i = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: Number(process.env.C ?? 50) }, async () => {
    while (i < reqs.length) {
      const r = reqs[i++]!;
      const a = await server.receiver.handleWebhook({
        method: 'POST',
        path: '/omise/webhook',
        headers: r.headers,
        body: r.body,
        remoteAddress: '127.0.0.1',
      });
      if (a.status !== 200) throw new Error(JSON.stringify(a.body));
    }
  }),
);
const ms = performance.now() - t0;
await server.mirror?.idle();
const cpu = process.cpuUsage(c0);
console.log(
  `cpu per event: ${((cpu.user + cpu.system) / reqs.length).toFixed(1)} us (user ${(cpu.user / reqs.length).toFixed(1)}, sys ${(cpu.system / reqs.length).toFixed(1)})`,
);
console.log(
  `${Math.round(reqs.length / (ms / 1000))} events/s through receiver.handleWebhook (files=${process.env.FILES !== '0'})`,
);
await server.close();
