// One HTTP POST to a checked destination with undici: pinned address, deadline, no redirects, a bounded answer.
import type { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import type { Deadline } from './deadline';
import { ChannelError, classifyTransportError, errorMessage } from './errors';
import { pinnedLookup, resolveUrl, type ResolvedUrl } from './network-policy';
import type { ChannelContext } from './types';

export interface HttpPost {
  url: string;
  headers: Record<string, string>;
  body: string | Buffer | Readable;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The first ANSWER_LIMIT bytes of the body as text: enough for an error message, bounded against a hostile peer. */
  text: string;
  /** The address actually connected to, for the operator-facing detail line. */
  address: string;
}

const ANSWER_LIMIT = 4096;

/** TLS trust for outgoing connections: the system's roots plus the operator's extra CAs (tls `ca` replaces, so we add). */
export function caList(ctx: ChannelContext): string[] | undefined {
  return ctx.trustedCa && ctx.trustedCa.length > 0 ? [...rootCertificates, ...ctx.trustedCa] : undefined;
}

/** Destinations whose connections are kept open; past this, the least recently used one is closed. */
const MAX_KEPT_DESTINATIONS = 256;
/** A connection attempt gives up after this at the latest; the send's own deadline usually ends it sooner. */
const CONNECT_TIMEOUT_MS = 30_000;

/** Ids of the operator's extra-CA lists (the same array on every send), so an agent key stays short. */
const caIds = new WeakMap<readonly string[], number>();
let nextCaId = 1;

/**
 * Keep-alive agents, one per destination: origin × the address checked for this send × trusted CAs. Each agent's lookup
 * is pinned to its address, so a connection is only ever reused for the address this send checked (a changed DNS
 * answer gets an agent of its own), and webhooks to one receiver stop paying a TCP (and TLS) handshake each.
 */
const agents = new Map<string, Agent>();

function agentFor(target: ResolvedUrl, ctx: ChannelContext): Agent {
  let caId = 0;
  if (ctx.trustedCa && ctx.trustedCa.length > 0) {
    caId = caIds.get(ctx.trustedCa) ?? nextCaId++;
    caIds.set(ctx.trustedCa, caId);
  }
  const key = `${target.url.origin}|${target.address}|${caId}`;
  let agent = agents.get(key);
  if (agent) {
    agents.delete(key); // re-inserted below: the Map's order is the recency order
  } else {
    agent = new Agent({ connect: { lookup: pinnedLookup(target), ca: caList(ctx), timeout: CONNECT_TIMEOUT_MS } });
    if (agents.size >= MAX_KEPT_DESTINATIONS) {
      const [oldestKey, oldest] = agents.entries().next().value as [string, Agent];
      agents.delete(oldestKey);
      void oldest.close().catch(() => undefined); // lets requests in flight finish
    }
  }
  agents.set(key, agent);
  return agent;
}

/**
 * POSTs once. Resolves and checks the destination first (network-policy), connects to exactly that address, and
 * returns whatever status came back: the caller classifies it. Throws ChannelError only for transport failures.
 */
export async function postOnce(req: HttpPost, ctx: ChannelContext, deadline: Deadline, what: string): Promise<HttpAnswer> {
  const target = await resolveUrl(req.url, ctx, what);
  try {
    const res = await request(target.url, {
      method: 'POST',
      dispatcher: agentFor(target, ctx),
      headers: req.headers,
      body: req.body,
      signal: deadline.signal,
      maxRedirections: 0,
      // The deadline signal bounds the whole exchange; these only keep undici's own timers from firing first.
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      chunks.push(buf);
      size += buf.length;
      if (size >= ANSWER_LIMIT) break; // leaving the loop destroys the rest of the body
    }
    const text = Buffer.concat(chunks).subarray(0, ANSWER_LIMIT).toString('utf8');
    return { status: res.statusCode, headers: res.headers, text, address: target.address };
  } catch (err) {
    if (deadline.signal.aborted) throw deadline.abortError(what);
    const known = classifyTransportError(err, what);
    if (known) throw known;
    throw new ChannelError('CONNECTION', `${what}: ${errorMessage(err)}`, { permanent: false, cause: err });
  }
}

/** A header value, first one if repeated. */
export function headerValue(headers: HttpAnswer['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** The answer body as one short line for messages: what a receiver said, without flooding the history. */
export function answerSnippet(answer: HttpAnswer): string {
  const line = answer.text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
