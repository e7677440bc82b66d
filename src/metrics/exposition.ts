// The text served at /metrics: refdata's registry merged with the Temporal SDK's worker metrics of this process.
//
// The SDK's metrics come from its Rust core, which only exports them through its own Prometheus endpoint. The
// worker binds that endpoint on a private loopback port (coreTelemetryOptions) and /metrics appends what it
// serves, so one scrape gets both; the names never collide (ours start refdata_, the SDK's temporal_).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TelemetryOptions } from '@temporalio/worker';
import { Gauge } from 'prom-client';
import { metricsRegistry } from './registry';

const coreUp = new Gauge({
  name: 'refdata_worker_sdk_metrics_up',
  help: '1 when this process runs a worker and its Temporal SDK metrics were read for this scrape, else 0.',
  registers: [metricsRegistry],
});

let coreMetricsUrl: string | null = null;

/** Telemetry for Runtime.install: the SDK's Prometheus exporter on a free loopback port only this process reads. */
export async function coreTelemetryOptions(): Promise<{ telemetryOptions: TelemetryOptions; url: string }> {
  const port = await freeLoopbackPort();
  return {
    telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}`, countersTotalSuffix: true, useSecondsForDurations: true } } },
    url: `http://127.0.0.1:${port}/metrics`,
  };
}

/** Called once the Runtime is installed with those options, so /metrics knows where to read them. */
export function useCoreMetrics(url: string): void {
  coreMetricsUrl = url;
}

export const metricsContentType = metricsRegistry.contentType;

export async function metricsText(): Promise<string> {
  const core = coreMetricsUrl ? await fetchText(coreMetricsUrl).catch(() => null) : null;
  coreUp.set(core === null ? 0 : 1);
  const own = await metricsRegistry.metrics();
  return core ? `${own}\n# Temporal SDK worker metrics (Rust core) of this process\n${core.trimEnd()}\n` : own;
}

/** A worker running as its own process serves /metrics here (REFDATA_WORKER_METRICS_PORT). */
export async function serveMetrics(opts: { host: string; port: number }): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    metricsText().then(
      (text) => res.writeHead(200, { 'content-type': metricsContentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.text();
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = http.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
