// A webhook receiver on 127.0.0.1 that misbehaves on purpose: 500 to a share of requests, stalls past the sender's
// timeout on another share, and counts what it accepted, deduplicating on webhook-id as a real receiver would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FlakyReceiver {
  url: string;
  /** webhook-ids answered 2xx, each counted once. */
  accepted: Set<string>;
  /** 2xx answers to an id already accepted (the sender resent a delivery that had arrived). */
  duplicates: number;
  /** requests: all of them; probes: those without a webhook-id (channel-health probes), answered but not counted as deliveries. */
  stats: { requests: number; errors500: number; stalls: number; probes: number };
  close(): Promise<void>;
}

/** mulberry32: the same seed gives the same sequence of failures, so a failing run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFlakyReceiver(opts: { errorShare: number; stallShare: number; stallMs: number; seed?: number }): Promise<FlakyReceiver> {
  const next = random(opts.seed ?? 20250621);
  const accepted = new Set<string>();
  const stats = { requests: 0, errors500: 0, stalls: 0, probes: 0 };
  const receiver = { accepted, duplicates: 0, stats };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      stats.requests++;
      const id = String(req.headers['webhook-id'] ?? '');
      const roll = next();
      if (roll < opts.errorShare) {
        stats.errors500++;
        res.writeHead(500).end('induced failure');
        return;
      }
      if (roll < opts.errorShare + opts.stallShare) {
        // Past the sender's timeout: it gives up and retries; the late answer goes nowhere and is not counted.
        stats.stalls++;
        setTimeout(() => res.destroy(), opts.stallMs).unref();
        return;
      }
      // No webhook-id: not a delivery but a channel-health probe (HEAD), which a real receiver gets too. It meets the
      // same failures above; an answer to it delivers nothing.
      if (!id) {
        stats.probes++;
        res.writeHead(200).end();
        return;
      }
      if (accepted.has(id)) receiver.duplicates++;
      accepted.add(id);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
