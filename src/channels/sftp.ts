// SFTP: each file uploaded as `<remoteDir>/.<name>.part`, checked, then renamed to `<name>` so readers never see half a file.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type SftpClient from 'ssh2-sftp-client';
import { z } from 'zod';
import { channelEncryptionSchema } from './encryption';
import { checkAttachments } from './attachments';
import { raceDeadline, startDeadline } from './deadline';
import { ChannelError, classifyTransportError, errorMessage } from './errors';
import { resolveHost } from './network-policy';
import { secret } from './secrets';
import type { ChannelSender, DeliveryAttachment, SendResult } from './types';

/** Loaded on first use: a worker that never uploads (a `sync`-only one) does not hold ssh2. */
export const loadSftpClient = (): typeof SftpClient => require('ssh2-sftp-client') as typeof SftpClient;

const keyAuth = z.object({
  type: z.literal('key'),
  /** OpenSSH or PEM private key text. */
  privateKey: secret(z.string().min(1)),
  passphrase: secret(z.string().min(1)).optional(),
});
const passwordAuth = z.object({ type: z.literal('password'), password: secret(z.string().min(1)) });

export const sftpConfigSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  username: z.string().min(1),
  auth: z.discriminatedUnion('type', [keyAuth, passwordAuth]),
  /** Absolute, or relative to the login directory. Must exist. */
  remoteDir: z.string().min(1).default('.'),
  /** The server's host key as `ssh-keygen -l -E sha256` prints it (`SHA256:…`). Unset = any key accepted (not recommended). */
  hostKeySha256: z
    .string()
    .transform((s) => (s.startsWith('SHA256:') ? s : `SHA256:${s}`).replace(/=+$/, ''))
    .pipe(z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be SHA256: and 43 base64 characters'))
    .optional(),
  /** true: an existing file of the same name is replaced atomically. false: the delivery fails if it exists. */
  overwrite: z.boolean().default(true),
  /** OpenPGP encryption of the files (src/reporting/encrypt-delivery.ts). */
  encryption: channelEncryptionSchema.optional(),
});

export type SftpConfig = z.infer<typeof sftpConfigSchema>;

/** The OpenSSH fingerprint of a raw host key blob. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export const sftpSender: ChannelSender<SftpConfig> = {
  type: 'SFTP',
  async send(msg, config, ctx): Promise<SendResult> {
    const started = performance.now();
    const what = `sftp ${msg.deliveryId}`;
    if (msg.attachments.length === 0) throw new ChannelError('INVALID_MESSAGE', `${what}: nothing to upload (no attachments)`, { permanent: true });
    await checkAttachments(msg.attachments, what);
    const deadline = startDeadline(ctx);
    const client = new (loadSftpClient())(`refdata-${msg.deliveryId}`);
    let seenHostKey: string | undefined;
    try {
      const host = await resolveHost(config.host, ctx, what);
      const connecting = client.connect({
        host: host.address,
        port: config.port,
        username: config.username,
        readyTimeout: ctx.timeoutMs,
        tryKeyboard: false,
        ...(config.auth.type === 'key' ? { privateKey: config.auth.privateKey, passphrase: config.auth.passphrase } : { password: config.auth.password }),
        hostVerifier: (key: Buffer): boolean => {
          seenHostKey = hostKeyFingerprint(key);
          return config.hostKeySha256 === undefined || seenHostKey === config.hostKeySha256;
        },
      });
      await raceDeadline(connecting, deadline, what, () => void client.end().catch(() => undefined));
      const uploaded: string[] = [];
      for (const a of msg.attachments) {
        uploaded.push(await raceDeadline(upload(client, a, config, what), deadline, what, () => void client.end().catch(() => undefined)));
      }
      return {
        status: 'delivered',
        detail: `${uploaded.length} file(s) to ${config.username}@${config.host}:${config.port} ${config.remoteDir} (host key ${seenHostKey ?? 'unknown'})`,
        remoteId: uploaded.join(','),
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      throw classifySftpError(err, what, config, seenHostKey);
    } finally {
      deadline.dispose();
      await client.end().catch(() => undefined);
    }
  },
};

async function upload(client: SftpClient, a: DeliveryAttachment, config: SftpConfig, what: string): Promise<string> {
  const part = posix.join(config.remoteDir, `.${a.fileName}.part`);
  const final = posix.join(config.remoteDir, a.fileName);
  try {
    if (!config.overwrite && (await client.exists(final))) {
      throw new ChannelError('REMOTE_REJECTED', `${what}: ${final} already exists and overwrite is off`, { permanent: true });
    }
    await client.put(a.path, part);
    const size = (await client.stat(part)).size;
    if (size !== a.bytes) throw new ChannelError('CONNECTION', `${what}: ${part} has ${size} bytes after upload, expected ${a.bytes}`, { permanent: false });
    await renameIntoPlace(client, part, final, config.overwrite);
    return final;
  } catch (err) {
    // Leave no .part behind; a failure here must not hide the original error.
    await client.delete(part, true).catch(() => undefined);
    throw err;
  }
}

async function renameIntoPlace(client: SftpClient, part: string, final: string, overwrite: boolean): Promise<void> {
  if (!overwrite) {
    await client.rename(part, final);
    return;
  }
  try {
    // posix-rename@openssh.com replaces the target atomically; plain SFTP rename refuses an existing target.
    await client.posixRename(part, final);
  } catch (err) {
    if (!/does not support|not supported/i.test(errorMessage(err))) throw err;
    // A server without the extension: replace in two steps; readers may briefly see no file, never half a file.
    await client.delete(final, true);
    await client.rename(part, final);
  }
}

function classifySftpError(err: unknown, what: string, config: SftpConfig, seenHostKey: string | undefined): ChannelError {
  if (err instanceof ChannelError) return err;
  const where = `${what}: ${config.username}@${config.host}:${config.port}`;
  const message = `${where}: ${errorMessage(err)}`;
  if (config.hostKeySha256 !== undefined && seenHostKey !== undefined && seenHostKey !== config.hostKeySha256) {
    return new ChannelError(
      'HOST_KEY_MISMATCH',
      `${what}: ${config.host}:${config.port} presented host key ${seenHostKey}, pinned ${config.hostKeySha256}; ` +
        'if the server was rebuilt, confirm the new key with its owner and update the channel',
      { permanent: true, cause: err },
    );
  }
  if (/authentication methods failed|authentication failed/i.test(errorMessage(err))) {
    return new ChannelError('AUTH_FAILED', `${message}; check the user, key or password`, { permanent: true, cause: err });
  }
  if (/Timed out while waiting for handshake/i.test(errorMessage(err))) return new ChannelError('TIMEOUT', message, { permanent: false, cause: err });
  // SFTP status codes (numeric) or their names: 2/ENOENT no such file (remoteDir missing), 3/EACCES permission denied.
  const code = (err as { code?: unknown }).code;
  if (code === 2 || code === 'ENOENT' || code === 3 || code === 'EACCES' || /permission denied|no such file/i.test(errorMessage(err))) {
    return new ChannelError('REMOTE_REJECTED', `${message}; check remoteDir and its permissions`, { permanent: true, cause: err });
  }
  return classifyTransportError(err, where) ?? new ChannelError('CONNECTION', message, { permanent: false, cause: err });
}
