// The instrument download goes through the channels' destination policy: no loopback, link-local (metadata), private
// or DNS-to-private hosts unless allowed, every redirect checked again, and configured headers only for their origin.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveUrl } from '../../src/channels/network-policy';
import { downloadToFile, type DownloadOptions } from '../../src/instruments/download';
import { SourceError } from '../../src/instruments/errors';
import { makeTempDir, type TempDir } from '../support/temp';

interface Peer {
  url: string;
  requests: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A loopback HTTP server answering every request with `answer`, recording each request's headers. */
async function startPeer(answer: (res: http.ServerResponse) => void): Promise<Peer> {
  const requests: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

let temp: TempDir;
const peers: Peer[] = [];
beforeAll(async () => {
  temp = await makeTempDir('refdata-download-policy-');
});
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});
afterAll(async () => temp?.cleanup());

const peer = async (answer: (res: http.ServerResponse) => void) => {
  const p = await startPeer(answer);
  peers.push(p);
  return p;
};
const file = (res: http.ServerResponse) => res.end('[]');
const redirectTo = (location: string) => (res: http.ServerResponse) => {
  res.writeHead(302, { location });
  res.end();
};

function options(url: string, over: Partial<DownloadOptions> = {}): DownloadOptions {
  return {
    url, headers: {}, sentCredentials: false, allowPrivateNetworks: false, timeoutMs: 10_000, maxBytes: 1 << 20,
    destination: path.join(temp.path, `download-${Math.random().toString(36).slice(2)}`), ...over,
  };
}

async function refusal(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('an instrument URL is checked before anything is sent', () => {
  it('loopback is refused, and the server hears nothing', async () => {
    const p = await peer(file);
    const err = await refusal(downloadToFile(options(`${p.url}/master.json`)));
    expect(err).toMatchObject({ type: 'SourceForbidden', code: 'DESTINATION_REFUSED' });
    expect(err.message).toMatch(/127\.0\.0\.1, a private\/loopback\/link-local address/);
    expect(p.requests).toHaveLength(0);
  });

  it.each([
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
    ['a private range', 'http://10.1.2.3/master.json'],
    ['IPv6 loopback', 'http://[::1]:9/master.json'],
    ['IPv4 mapped in IPv6', 'http://[::ffff:127.0.0.1]:9/master.json'],
    ['a DNS name resolving to loopback', 'http://localhost:9/master.json'],
  ])('%s is refused without a connection', async (_what, url) => {
    const err = await refusal(downloadToFile(options(url, { timeoutMs: 2000 })));
    expect(err).toMatchObject({ type: 'SourceForbidden', code: 'DESTINATION_REFUSED' });
  });

  it('with private destinations allowed (REFDATA_ALLOW_PRIVATE_DESTINATIONS) the same loopback URL downloads', async () => {
    const p = await peer(file);
    const got = await downloadToFile(options(`${p.url}/master.json`, { allowPrivateNetworks: true }));
    expect(got).toMatchObject({ bytes: 2, status: 200 });
    expect(p.requests).toHaveLength(1);
  });
});

describe('redirects', () => {
  /** The policy with one exception: hop 0 (the test's own loopback "broker", standing in for a public one). */
  const policyAfterFirstHop: DownloadOptions['checkDestination'] = (url, hop) =>
    resolveUrl(url, { signal: AbortSignal.timeout(5000), timeoutMs: 5000, allowPrivateNetworks: hop === 0 }, 'instrument source');

  it('a redirect to loopback is checked again and refused; the loopback target hears nothing', async () => {
    const inside = await peer(file);
    const outside = await peer(redirectTo(`${inside.url}/admin`));
    const err = await refusal(downloadToFile(options(`${outside.url}/master.json`, { checkDestination: policyAfterFirstHop })));
    expect(err).toMatchObject({ type: 'SourceForbidden', code: 'DESTINATION_REFUSED' });
    expect(outside.requests).toHaveLength(1);
    expect(inside.requests).toHaveLength(0);
  });

  it('a redirect to the metadata address is refused', async () => {
    const outside = await peer(redirectTo('http://169.254.169.254/latest/meta-data/'));
    const err = await refusal(downloadToFile(options(`${outside.url}/master.json`, { checkDestination: policyAfterFirstHop })));
    expect(err.code).toBe('DESTINATION_REFUSED');
  });

  it('configured headers go to their origin only: a redirect to another origin gets none of them', async () => {
    const other = await peer(file);
    const source = await peer(redirectTo(`${other.url.replace('127.0.0.1', 'localhost')}/cdn/master.json`));
    const got = await downloadToFile(options(`${source.url}/master.json`, {
      allowPrivateNetworks: true, headersOrigin: new URL(source.url).origin,
      headers: { authorization: 'Bearer broker-token-123', 'x-api-key': 'key-456', cookie: 'session=789' },
    }));
    expect(got.status).toBe(200);
    expect(source.requests[0]).toMatchObject({ authorization: 'Bearer broker-token-123', 'x-api-key': 'key-456', cookie: 'session=789' });
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]!.authorization).toBeUndefined();
    expect(other.requests[0]!['x-api-key']).toBeUndefined();
    expect(other.requests[0]!.cookie).toBeUndefined();
  });

  it('more than 5 redirects end the download as SourceNotFound', async () => {
    const loop = await peer((res) => redirectTo('/again')(res));
    const err = await refusal(downloadToFile(options(`${loop.url}/start`, { allowPrivateNetworks: true })));
    expect(err.code).toBe('TOO_MANY_REDIRECTS');
    expect(loop.requests).toHaveLength(6);
  });
});
