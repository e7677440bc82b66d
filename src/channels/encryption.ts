// Encrypts a report file for one recipient's OpenPGP public key, streamed from disk to disk (for `encryption_required`).
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type * as OpenPgp from 'openpgp';
import { z } from 'zod';

/** The `encryption` block of a channel config (SFTP, EMAIL, API_WEBHOOK). */
export const channelEncryptionSchema = z.object({
  /** Encrypt every delivery on this channel, whether or not the report asks for it. */
  required: z.boolean().default(false),
  /** The subscriber's OpenPGP public key, ASCII-armoured. */
  public_key: z.string().max(200_000).regex(/-----BEGIN PGP PUBLIC KEY BLOCK-----/, 'must be an ASCII-armoured OpenPGP public key').optional(),
  /** ASCII armour (`.asc`) instead of binary (`.pgp`), for receivers that only take text. */
  armor: z.boolean().default(false),
});

export type ChannelEncryption = z.output<typeof channelEncryptionSchema>;

export interface EncryptedFile {
  path: string;
  bytes: number;
  /** Lower-case hex SHA-256 of the encrypted file: what an attachment built from it must carry. */
  sha256: string;
}

export interface EncryptOptions {
  /** ASCII armour (`-----BEGIN PGP MESSAGE-----`) instead of binary; for peers that only take text. Default binary. */
  armor?: boolean;
}

/**
 * Writes `outputPath` (via `<outputPath>.part` and a rename, so a reader never sees half a file). Neither the input
 * nor the output is held in memory: openpgp works on Web Streams, bridged to Node file streams here.
 * Throws when the key cannot be read or cannot encrypt (e.g. a signing-only key); the caller treats that as a
 * configuration error of the subscription, not something to retry.
 */
export async function encryptForRecipient(
  inputPath: string,
  outputPath: string,
  armoredPublicKey: string,
  opts: EncryptOptions = {},
): Promise<EncryptedFile> {
  const { createMessage, encrypt, readKey } = require('openpgp') as typeof OpenPgp;
  const encryptionKey = await readKey({ armoredKey: armoredPublicKey });
  const source = Readable.toWeb(createReadStream(inputPath)) as WebReadableStream<Uint8Array>;
  // The literal packet carries the original name, so `gpg --decrypt --use-embedded-filename` restores it.
  const message = await createMessage({ binary: source, filename: basename(inputPath) });
  const encrypted = opts.armor
    ? Readable.fromWeb((await encrypt({ message, encryptionKeys: encryptionKey, format: 'armored' })) as WebReadableStream<string>)
    : Readable.fromWeb((await encrypt({ message, encryptionKeys: encryptionKey, format: 'binary' })) as WebReadableStream<Uint8Array>);

  const hash = createHash('sha256');
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer | string, _enc, done) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      hash.update(buf);
      bytes += buf.length;
      done(null, buf);
    },
  });
  const part = `${outputPath}.part`;
  try {
    await pipeline(encrypted, measure, createWriteStream(part, { flags: 'w', mode: 0o600 }));
    await rename(part, outputPath);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
  return { path: outputPath, bytes, sha256: hash.digest('hex') };
}
