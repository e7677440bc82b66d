// `encryption_required`: what a delivery sends when a report (or the channel itself) requires encryption.
//
// The channels that carry files (SFTP, EMAIL, API_WEBHOOK) get each file encrypted for the channel's OpenPGP public
// key, and an inline body as an encrypted file too: nothing of the report leaves in clear. The other channels never
// carry the report's bytes (a Slack message, a push, a dashboard notice); for them the summary and body are left out
// and the title and link go. The encrypted copy of a delivery is made once and reused by its retries (the bytes, and
// so the checksums a receiver sees, stay the same), and registered for the retention sweep.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ChannelError } from '../channels/errors';
import { channelEncryptionSchema, encryptForRecipient, type ChannelEncryption } from '../channels/encryption';
import type { DeliveryAttachment, DeliveryMessage } from '../channels/types';

export const fileChannels: ReadonlySet<string> = new Set(['SFTP', 'EMAIL', 'API_WEBHOOK']);

export interface ProtectInput {
  deliveryId: string;
  channel: string;
  channelId: string;
  message: DeliveryMessage;
  /** The report's own `encryption_required`. */
  reportRequires: boolean;
  /** The channel's opened config; its `encryption` block, if any, is read here. */
  config: unknown;
  /** Where encrypted copies are written (one folder per delivery). */
  dir: string;
  /** Registers a copy this call made, for the retention sweep. */
  onCopy?: (file: { path: string; bytes: number }) => Promise<void>;
}

function encryptionOf(config: unknown): ChannelEncryption | null {
  const block = (config as { encryption?: unknown } | null)?.encryption;
  return block === undefined ? null : channelEncryptionSchema.parse(block);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** The message this channel may send: unchanged when nothing requires encryption. Throws a permanent ChannelError when it cannot be protected. */
export async function protectMessage(input: ProtectInput): Promise<DeliveryMessage> {
  const settings = encryptionOf(input.config);
  const { message } = input;
  if (!input.reportRequires && !settings?.required) return message;
  if (!fileChannels.has(input.channel)) return { ...message, summary: undefined, content: undefined };
  if (!settings?.public_key) {
    throw new ChannelError(
      'INVALID_CONFIG',
      `report ${message.reportId} requires encryption, but channel ${input.channelId} has no encryption.public_key; ` +
        `add the subscriber's OpenPGP public key (PATCH /api/v1/reporting/channels/${input.channelId}) and replay the delivery`,
      { permanent: true },
    );
  }
  const key = settings.public_key;
  const dir = path.join(input.dir, input.deliveryId.replace(/[^A-Za-z0-9._-]/g, '_'));
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const suffix = settings.armor ? '.asc' : '.pgp';

  const encrypted = async (source: string, fileName: string): Promise<DeliveryAttachment> => {
    const out = path.join(dir, `${fileName}${suffix}`);
    // A copy from an earlier attempt is complete (written under .part, then renamed): the same bytes go again.
    const earlier = await fs.stat(out).catch(() => null);
    let file: { bytes: number; sha256: string };
    if (earlier) file = { bytes: earlier.size, sha256: await sha256Of(out) };
    else {
      try {
        file = await encryptForRecipient(source, out, key, { armor: settings.armor });
      } catch (err) {
        throw new ChannelError('INVALID_CONFIG', `channel ${input.channelId}: its encryption.public_key cannot encrypt (${(err as Error).message})`, { permanent: true });
      }
      await input.onCopy?.({ path: out, bytes: file.bytes });
    }
    return { fileName: `${fileName}${suffix}`, path: out, contentType: settings.armor ? 'text/plain' : 'application/pgp-encrypted', bytes: file.bytes, sha256: file.sha256 };
  };

  const attachments: DeliveryAttachment[] = [];
  for (const a of message.attachments) attachments.push(await encrypted(a.path, a.fileName));
  if (message.content) {
    // The body goes as a file of its own; the plaintext is on disk (mode 600) only while it is encrypted.
    const ext = message.content.contentType === 'application/json' ? 'json' : message.content.contentType === 'text/html' ? 'html' : 'txt';
    const name = `${message.reportId.replace(/[^A-Za-z0-9._-]/g, '_')}-content.${ext}`;
    await fs.mkdir(path.join(dir, '.plain'), { recursive: true, mode: 0o700 });
    const plain = path.join(dir, '.plain', name);
    await fs.writeFile(plain, message.content.text, { mode: 0o600 });
    try {
      attachments.push(await encrypted(plain, name));
    } finally {
      await fs.rm(plain, { force: true });
    }
  }
  return { ...message, attachments, content: undefined, summary: undefined };
}
