// bench/delivery's other side, in a process of its own (as a real client and receiver would be): the webhook receiver
// and the load generator that POSTs /deliver on a schedule. One process, so sent and received share one clock; apart
// from refdata's, so the refdata process's CPU figure is the API's and the worker's alone.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export type PeerCommand =
  | { type: 'run'; rate: number; seconds: number; drainS: number; base: string; key: string }
  | { type: 'settle'; limitS: number }
  | { type: 'stop' };

export interface PeerRun {
  sent: number;
  sendSeconds: number;
  /** Latency of each received delivery: request sent → webhook received, and 202 received → webhook received (ms). */
  fromSent: number[];
  fromAccepted: number[];
  lastDeliveryId: string | null;
  /** CPU this process used for the phase (load generator + receiver), ms. */
  cpuMs: number;
}

export type PeerMessage = { type: 'ready'; hookUrl: string } | { type: 'ran'; run: PeerRun } | { type: 'settled' } | { type: 'failed'; error: string };

interface Sample { sentAt: number; acceptedAt: number; deliveryId: string }

const receipts = new Map<string, number>();
let seq = 0;
const reply = (m: PeerMessage) => process.send?.(m);
const sleep = (msDelay: number) => new Promise((r) => setTimeout(r, msDelay));

const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const id = String(req.headers['webhook-id']);
    if (!receipts.has(id)) receipts.set(id, performance.now());
    res.writeHead(200).end('ok');
  });
});

/** Sends `rate` deliveries a second for `seconds`, on a schedule (not waiting for answers), then waits for receipts. */
async function run(cmd: Extract<PeerCommand, { type: 'run' }>): Promise<PeerRun> {
  const cpu0 = process.cpuUsage();
  const samples: Sample[] = [];
  const inflight: Promise<void>[] = [];
  let lastDeliveryId: string | null = null;
  const start = performance.now();
  const total = Math.round(cmd.rate * cmd.seconds);
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / cmd.rate - performance.now();
    if (wait > 1) await sleep(wait);
    const sentAt = performance.now();
    const n = seq++;
    const body = { report: { report_id: `bench_${n}`, report_type: 'ALERT_REPORT', content: { content_type: 'text/plain', text: `alert ${n}` } }, priority: 2 };
    inflight.push(
      fetch(`${cmd.base}/api/v1/reporting/deliver`, {
        method: 'POST', headers: { authorization: `Bearer ${cmd.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
      }).then(async (res) => {
        const acceptedAt = performance.now();
        const answer = (await res.json()) as { deliveries?: { delivery_id: string }[] };
        if (res.status !== 202 || !answer.deliveries?.[0]) throw new Error(`deliver: ${res.status} ${JSON.stringify(answer)}`);
        samples.push({ sentAt, acceptedAt, deliveryId: answer.deliveries[0].delivery_id });
        lastDeliveryId = answer.deliveries[0].delivery_id;
      }),
    );
  }
  const sendSeconds = (performance.now() - start) / 1000;
  await Promise.all(inflight);
  // Drain: the next phase must not start behind this one's backlog.
  const deadline = performance.now() + cmd.drainS * 1000;
  while (samples.some((s) => !receipts.has(s.deliveryId)) && performance.now() < deadline) await sleep(50);
  const got = samples.filter((s) => receipts.has(s.deliveryId));
  const cpu = process.cpuUsage(cpu0);
  return {
    sent: samples.length, sendSeconds, lastDeliveryId, cpuMs: (cpu.user + cpu.system) / 1000,
    fromSent: got.map((s) => receipts.get(s.deliveryId)! - s.sentAt),
    fromAccepted: got.map((s) => receipts.get(s.deliveryId)! - s.acceptedAt),
  };
}

/** Every delivery sent so far has arrived (up to `limitS`). */
async function settle(limitS: number): Promise<void> {
  const until = performance.now() + limitS * 1000;
  while (receipts.size < seq && performance.now() < until) await sleep(200);
}

process.on('message', (cmd: PeerCommand) => {
  const work = cmd.type === 'run' ? run(cmd).then((r) => reply({ type: 'ran', run: r }))
    : cmd.type === 'settle' ? settle(cmd.limitS).then(() => reply({ type: 'settled' }))
    : new Promise<void>((resolve) => receiver.close(() => resolve())).then(() => process.disconnect());
  work.catch((err: Error) => reply({ type: 'failed', error: err.stack ?? String(err) }));
});

receiver.listen(0, '127.0.0.1', () => reply({ type: 'ready', hookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` }));
