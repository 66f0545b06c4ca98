import autocannon from 'autocannon';
import { createHmac } from 'node:crypto';
const secretKey = Buffer.from('benchmark webhook secret 32 bytes');
let n = 0;
const r = await autocannon({ url: 'http://127.0.0.1:3999/omise/webhook', connections: 50, duration: 8, method: 'POST', requests: [{ setupRequest: (req: any) => {
  const id = `evnt_test_dbg${n++}`;
  const body = `{\n  "object": "event",\n  "id": "${id}",\n  "livemode": false,\n  "key": "charge.create",\n  "data": {\n    "object": "charge",\n    "id": "chrg_test_1${n}",\n    "description": "ค่าสินค้า"\n  }\n}`;
  const ts = String(Math.floor(Date.now()/1000));
  return { ...req, method: 'POST', body, headers: { 'content-type': 'application/json', 'omise-signature': createHmac('sha256', secretKey).update(`${ts}.${body}`).digest('hex'), 'omise-signature-timestamp': ts } };
} }] });
console.log(r.requests.average, r.latency.p50, r.latency.p99, r['2xx'], r.non2xx);
