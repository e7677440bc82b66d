// docker-compose.yml agrees with the code: the search attributes it registers, the variables it sets, and the folders
// the worker, API and watcher must share.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables } from '../../src/config';
import { searchAttributeTypes, taskQueues } from '../../src/ids';

interface Service {
  command?: string[];
  environment?: Record<string, string | null>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
}
const root = path.resolve(__dirname, '../..');
const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const app = ['migrate', 'schedules', 'worker', 'api', 'watcher'];

describe('docker-compose.yml', () => {
  it('registers exactly the search attributes the workflows set, all Keyword', () => {
    const loop = /for name in ([A-Za-z ]+); do/.exec(compose.services['temporal-admin-tools']!.command!.join('\n'));
    expect(loop?.[1]!.trim().split(/\s+/).sort()).toEqual(Object.keys(searchAttributeTypes).sort());
    expect(new Set(Object.values(searchAttributeTypes))).toEqual(new Set(['Keyword']));
    expect(composeText).toContain('--type Keyword');
  });

  it('sets only variables src/config.ts reads', () => {
    for (const name of app) {
      for (const key of Object.keys(compose.services[name]!.environment ?? {})) expect(configVariables, `${name}: ${key}`).toContain(key);
    }
  });

  it('gives the worker, API and watcher the same drop folder and state folder (secrets key, distribution files)', () => {
    for (const name of ['worker', 'api', 'watcher']) {
      const s = compose.services[name]!;
      expect(s.volumes, name).toEqual(['./dropoff:/app/dropoff', 'refdata-state:/app/state']);
      expect(s.environment).toMatchObject({ REFDATA_DROPOFF_DIR: '/app/dropoff', REFDATA_STATE_DIR: '/app/state' });
      expect(s.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, 'temporal-admin-tools': { condition: 'service_completed_successfully' } });
    }
    expect(compose.volumes).toHaveProperty('refdata-state');
  });

  it('runs the migrations and applies the schedules once, and checks the API\'s health', () => {
    expect(compose.services.migrate!.command).toEqual(['migrate']);
    expect(compose.services.schedules!.command).toEqual(['schedules', 'apply']);
    expect(compose.services.api!.healthcheck!.test.join(' ')).toContain("fetch('http://127.0.0.1:3000/health')");
    // One worker polls every queue; docs/deployment.md shows how to split them.
    expect(compose.services.worker!.command).toEqual(['worker']);
    expect(Object.values(taskQueues).length).toBeGreaterThan(1);
  });

  it('publishes only the API (REST and gRPC) to every interface; the database, Temporal gRPC and its UI only on 127.0.0.1', () => {
    const published = Object.entries(compose.services).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => [name, String(p)] as const));
    expect(published.length).toBeGreaterThan(1);
    for (const [name, port] of published) {
      if (name !== 'api') expect(port, `${name} publishes ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    expect(compose.services.api!.ports).toEqual(['3000:3000', '50051:50051']);
  });

  it('serves the gRPC ReportingStream from the API container on the port it publishes', () => {
    const env = compose.services.api!.environment as Record<string, unknown>;
    expect(env.REFDATA_GRPC_PORT).toBe('50051');
    expect(env.REFDATA_API_HOST).toBe('0.0.0.0');
  });
});
