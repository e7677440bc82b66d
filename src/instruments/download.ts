// Streams the broker's instrument file to a local file with undici: timeout, size limit, SHA-256, and clear refusals.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, request, type Dispatcher } from 'undici';
import { ChannelError } from '../channels/errors';
import { pinnedLookup, resolveUrl, type ResolvedUrl } from '../channels/network-policy';
import { SourceError } from './errors';

export interface DownloadOptions {
  url: string;
  /** Sent only to `headersOrigin` (the configured source's origin): a redirect elsewhere gets none of them. */
  headers: Record<string, string>;
  headersOrigin?: string;
  /** REFDATA_ALLOW_PRIVATE_DESTINATIONS: off, the URL and every redirect must resolve to public addresses only. */
  allowPrivateNetworks: boolean;
  /** Checks one hop's destination; the channels' destination policy unless a test swaps it (hop 0 is the URL itself). */
  checkDestination?: (url: string, hop: number) => Promise<ResolvedUrl>;
  /** Whether the headers carry credentials from configuration (changes what a 401/403 message advises). */
  sentCredentials: boolean;
  timeoutMs: number;
  maxBytes: number;
  /** Written as `<destination>.part`, renamed into place once complete. */
  destination: string;
  onProgress?: (bytes: number) => void;
  /** Aborts the transfer (activity cancellation). */
  signal?: AbortSignal;
}

export interface Downloaded {
  bytes: number;
  sha256: string;
  status: number;
}

const MAX_REDIRECTS = 5;
const SYNC_FROM_FILE = 'download the file another way and run `refdata sync --file PATH`';

/** The URL for messages and reports: a query string may hold a signature or token, so its values are hidden. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const keys = [...new Set(u.searchParams.keys())];
    return `${u.origin}${u.pathname}${keys.length ? `?${keys.map((k) => `${encodeURIComponent(k)}=…`).join('&')}` : ''}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** Statuses that retrying cannot fix become a SourceError that names the URL, the status and what to do. */
export function refusalFor(status: number, url: string, sentCredentials: boolean): SourceError | null {
  const where = `GET ${redactUrl(url)} answered ${status}`;
  if (status === 401 || status === 403 || status === 407) {
    const advice = sentCredentials
      ? 'the source refused the credentials sent (INSTRUMENTS_BEARER_TOKEN / INSTRUMENTS_HEADERS): renew them'
      : 'if the source needs authentication, set INSTRUMENTS_BEARER_TOKEN (or INSTRUMENTS_HEADERS)';
    const label = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Proxy Authentication Required';
    return new SourceError(`${where} (${label}): the source refuses this request; ${advice}, or ${SYNC_FROM_FILE}. Nothing was changed.`, 'SourceForbidden', `HTTP_${status}`);
  }
  if (status === 404 || status === 410) {
    return new SourceError(
      `${where} (${status === 404 ? 'Not Found' : 'Gone'}): there is no instrument file at this address; check INSTRUMENTS_URL (brokers move these files), or ${SYNC_FROM_FILE}. Nothing was changed.`,
      'SourceNotFound',
      `HTTP_${status}`,
    );
  }
  // 408 (timeout), 425 (too early) and 429 (rate limited) are worth retrying; other 4xx are not.
  if (status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429) {
    return new SourceError(`${where}: the source refuses the request as sent; check INSTRUMENTS_URL and INSTRUMENTS_HEADERS. Nothing was changed.`, 'SourceForbidden', `HTTP_${status}`);
  }
  return null;
}

function tooLarge(url: string, maxBytes: number): SourceError {
  return new SourceError(`${redactUrl(url)} is larger than INSTRUMENTS_MAX_BYTES (${maxBytes} bytes); raise the limit if the file really is that big`, 'InvalidFile', 'TOO_LARGE');
}

/** The destination policy's refusal is the source's (non-retryable); a DNS hiccup stays a plain, retried error. */
function asSourceError(err: unknown, url: string): unknown {
  if (err instanceof ChannelError && err.permanent) {
    return new SourceError(`${redactUrl(url)} is not an allowed source: ${err.message}. Nothing was changed.`, 'SourceForbidden', 'DESTINATION_REFUSED');
  }
  return err;
}

/**
 * GETs `url`, following up to MAX_REDIRECTS redirects by hand so each hop is checked against the destination policy
 * and connected to the address that was checked (no second DNS answer), and so headers go to their origin only.
 */
async function getFollowingRedirects(opts: DownloadOptions, signal: AbortSignal): Promise<{ res: Dispatcher.ResponseData; url: string }> {
  const check = opts.checkDestination ?? ((u: string) => resolveUrl(u, { signal, timeoutMs: opts.timeoutMs, allowPrivateNetworks: opts.allowPrivateNetworks }, 'instrument source'));
  let url = opts.url;
  for (let hop = 0; ; hop++) {
    const target = await check(url, hop).catch((err: unknown) => {
      throw asSourceError(err, url);
    });
    const agent = new Agent({ connect: { lookup: pinnedLookup(target) } });
    const own = opts.headersOrigin !== undefined && target.url.origin === opts.headersOrigin;
    const res = await request(target.url, {
      method: 'GET',
      dispatcher: agent,
      headers: { 'user-agent': 'refdata instrument-sync', accept: '*/*', ...(own ? opts.headers : {}) },
      maxRedirections: 0,
      signal,
    });
    // The agent closes once the body has been read (or dumped); its pinned address is for this hop only.
    res.body.once('close', () => void agent.close().catch(() => undefined));
    const location = res.headers.location;
    if (res.statusCode < 300 || res.statusCode >= 400 || res.statusCode === 304 || !location) return { res, url };
    await res.body.dump().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) {
      throw new SourceError(`${redactUrl(opts.url)} redirected more than ${MAX_REDIRECTS} times; check INSTRUMENTS_URL. Nothing was changed.`, 'SourceNotFound', 'TOO_MANY_REDIRECTS');
    }
    url = new URL(Array.isArray(location) ? location[0]! : location, target.url).toString();
  }
}

/** Downloads `url` to `destination`. Transient problems (5xx, resets, timeouts) throw plain errors so Temporal retries. */
export async function downloadToFile(opts: DownloadOptions): Promise<Downloaded> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const part = `${opts.destination}.part`;
  try {
    const { res } = await getFollowingRedirects(opts, signal);
    const refusal = refusalFor(res.statusCode, opts.url, opts.sentCredentials);
    if (refusal || res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump().catch(() => undefined);
      throw refusal ?? new Error(`GET ${redactUrl(opts.url)} answered ${res.statusCode}; Temporal retries with backoff`);
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > opts.maxBytes) {
      await res.body.dump().catch(() => undefined);
      throw tooLarge(opts.url, opts.maxBytes);
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > opts.maxBytes) return done(tooLarge(opts.url, opts.maxBytes));
        hash.update(chunk);
        opts.onProgress?.(bytes);
        done(null, chunk);
      },
    });
    await pipeline(res.body, meter, fs.createWriteStream(part));
    await fs.promises.rename(part, opts.destination);
    return { bytes, sha256: hash.digest('hex'), status: res.statusCode };
  } catch (err) {
    await fs.promises.rm(part, { force: true });
    if (err instanceof SourceError) throw err;
    if (timeout.aborted) throw new Error(`download of ${redactUrl(opts.url)} did not finish within ${opts.timeoutMs} ms; Temporal retries it`);
    throw new Error(`download of ${redactUrl(opts.url)} failed: ${(err as Error).message}; Temporal retries it`, { cause: err });
  }
}
