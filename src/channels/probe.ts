// Probes: one real, cheap check per channel type that the destination answers again, used to end a channel's pause.
// None of them delivers anything: a probe must never look like a report to the receiver.
import { Agent, request } from 'undici';
import { parseChannelConfig } from './index';
import { raceDeadline, startDeadline } from './deadline';
import type { EmailConfig } from './email';
import { classifySmtpError } from './email';
import { ChannelError, classifyTransportError, errorMessage } from './errors';
import { caList } from './http';
import { pinnedLookup, resolveHost, resolveUrl } from './network-policy';
import { hostKeyFingerprint, type SftpConfig } from './sftp';
import type { ChannelContext, ChannelType } from './types';
import { loadNodemailer } from './email';
import { loadSftpClient } from './sftp';

export interface ProbeResult {
  /** One line for operators: what was checked and what the destination said. */
  detail: string;
  latencyMs: number;
}

/**
 * HTTP destinations (webhook, Slack, push): a HEAD request to the configured URL, with the channel's own destination
 * checks (resolved and pinned address, no redirects followed). Any answer below 500 other than 429 proves the server
 * is up and its HTTP stack answers — receivers often answer 404/405 to HEAD on a POST endpoint, and that is fine.
 * A 5xx, 429, a refused or reset connection, a timeout or a TLS failure keep the channel paused.
 */
export async function probeHttp(rawUrl: string, headers: Record<string, string>, ctx: ChannelContext, what: string): Promise<ProbeResult> {
  const started = performance.now();
  const target = await resolveUrl(rawUrl, ctx, what);
  const deadline = startDeadline(ctx);
  const agent = new Agent({ connect: { lookup: pinnedLookup(target), ca: caList(ctx), timeout: ctx.timeoutMs }, headersTimeout: ctx.timeoutMs, bodyTimeout: ctx.timeoutMs });
  try {
    const res = await request(target.url, { method: 'HEAD', dispatcher: agent, headers, signal: deadline.signal, maxRedirections: 0 });
    await res.body.dump().catch(() => undefined);
    if (res.statusCode >= 500 || res.statusCode === 429) {
      throw new ChannelError(res.statusCode === 429 ? 'RATE_LIMITED' : 'HTTP_5XX', `${what}: HEAD ${target.url.origin} answered HTTP ${res.statusCode}`, { permanent: false, status: res.statusCode });
    }
    return { detail: `HEAD ${target.url.origin}${target.url.pathname} answered HTTP ${res.statusCode} (${target.address})`, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (err instanceof ChannelError) throw err;
    if (deadline.signal.aborted) throw deadline.abortError(what);
    throw classifyTransportError(err, what) ?? new ChannelError('CONNECTION', `${what}: ${errorMessage(err)}`, { permanent: false, cause: err });
  } finally {
    deadline.dispose();
    await agent.destroy().catch(() => undefined);
  }
}

/** SFTP: connect, check the host key, authenticate, and `stat` the remote directory — everything an upload needs first. */
export async function probeSftp(config: SftpConfig, ctx: ChannelContext, what: string): Promise<ProbeResult> {
  const started = performance.now();
  const deadline = startDeadline(ctx);
  const client = new (loadSftpClient())(`refdata-probe`);
  let seenHostKey: string | undefined;
  const close = () => void client.end().catch(() => undefined);
  try {
    const host = await resolveHost(config.host, ctx, what);
    await raceDeadline(client.connect({
      host: host.address, port: config.port, username: config.username, readyTimeout: ctx.timeoutMs, tryKeyboard: false,
      ...(config.auth.type === 'key' ? { privateKey: config.auth.privateKey, passphrase: config.auth.passphrase } : { password: config.auth.password }),
      hostVerifier: (key: Buffer): boolean => {
        seenHostKey = hostKeyFingerprint(key);
        return config.hostKeySha256 === undefined || seenHostKey === config.hostKeySha256;
      },
    }), deadline, what, close);
    const stat = await raceDeadline(client.stat(config.remoteDir), deadline, what, close);
    if (!stat.isDirectory) throw new ChannelError('REMOTE_REJECTED', `${what}: ${config.remoteDir} is not a directory`, { permanent: true });
    return { detail: `${config.username}@${config.host}:${config.port} logged in, ${config.remoteDir} is a directory`, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    if (err instanceof ChannelError) throw err;
    if (config.hostKeySha256 !== undefined && seenHostKey !== undefined && seenHostKey !== config.hostKeySha256) {
      throw new ChannelError('HOST_KEY_MISMATCH', `${what}: host key ${seenHostKey}, pinned ${config.hostKeySha256}`, { permanent: true, cause: err });
    }
    throw classifyTransportError(err, what) ?? new ChannelError('CONNECTION', `${what}: ${errorMessage(err)}`, { permanent: false, cause: err });
  } finally {
    deadline.dispose();
    close();
  }
}

/** Email: nodemailer's verify() — connect, greeting, STARTTLS or TLS as configured, and AUTH when configured. No message. */
export async function probeSmtp(config: EmailConfig, ctx: ChannelContext, what: string): Promise<ProbeResult> {
  const started = performance.now();
  const transport = loadNodemailer().createTransport({
    host: config.host, port: config.port, secure: config.security === 'tls', requireTLS: config.security === 'starttls', ignoreTLS: config.security === 'none',
    auth: config.auth ? { user: config.auth.user, pass: config.auth.pass } : undefined,
    connectionTimeout: ctx.timeoutMs, greetingTimeout: ctx.timeoutMs, socketTimeout: ctx.timeoutMs, tls: { ca: caList(ctx) },
  });
  const deadline = startDeadline(ctx);
  try {
    await raceDeadline(transport.verify(), deadline, what, () => transport.close());
    return { detail: `SMTP ${config.host}:${config.port} accepted a session${config.auth ? ' and our login' : ''}`, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    throw classifySmtpError(err, what, `${config.host}:${config.port}`);
  } finally {
    deadline.dispose();
    transport.close();
  }
}

/** A probe for a stored channel's (opened) config; throws the ChannelError that keeps it paused. */
export async function probeChannel(type: ChannelType, rawConfig: unknown, ctx: ChannelContext, channelId: string): Promise<ProbeResult> {
  const what = `probe of ${channelId}`;
  switch (type) {
    case 'API_WEBHOOK': {
      const c = parseChannelConfig('API_WEBHOOK', rawConfig);
      return probeHttp(c.url, c.headers ?? {}, ctx, what);
    }
    case 'SLACK_INTEGRATION':
      return probeHttp(parseChannelConfig('SLACK_INTEGRATION', rawConfig).webhookUrl, {}, ctx, what);
    case 'MOBILE_PUSH':
      return probeHttp(parseChannelConfig('MOBILE_PUSH', rawConfig).subscription.endpoint, {}, ctx, what);
    case 'SFTP':
      return probeSftp(parseChannelConfig('SFTP', rawConfig), ctx, what);
    case 'EMAIL':
      return probeSmtp(parseChannelConfig('EMAIL', rawConfig), ctx, what);
    case 'DASHBOARD_NOTIFICATION':
      // refdata's own database: never paused (its failures do not count), so nothing outside to check.
      return { detail: 'dashboard notifications are stored by refdata itself', latencyMs: 0 };
  }
}
