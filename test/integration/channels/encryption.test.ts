// encryptForRecipient: a report encrypted to a public key decrypts, with the private key, to the same bytes.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { decrypt, generateKey, readMessage, readPrivateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptForRecipient } from '../../../src/channels';
import { makeTempDir, type TempDir } from '../../support/temp';
import { instrumentCsv, writeReportFile } from './fixtures';

let dir: TempDir;
let publicKey: string;
let privateKey: string;
beforeAll(async () => {
  dir = await makeTempDir('refdata-pgp-');
  ({ publicKey, privateKey } = await generateKey({ userIDs: [{ name: 'Client 001', email: 'pgp@client.example' }], format: 'armored' }));
});
afterAll(async () => {
  await dir.cleanup();
});

/** Decrypts as a recipient would, streaming, and returns the SHA-256 and name of what came out. */
async function decryptFile(path: string, armored: boolean): Promise<{ sha256: string; bytes: number; filename: string }> {
  const source = Readable.toWeb(createReadStream(path)) as WebReadableStream<Uint8Array>;
  const message = armored
    ? await readMessage({ armoredMessage: Readable.toWeb(createReadStream(path, 'utf8')) as WebReadableStream<string> })
    : await readMessage({ binaryMessage: source });
  const { data, filename } = await decrypt({ message, decryptionKeys: await readPrivateKey({ armoredKey: privateKey }), format: 'binary' });
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of Readable.fromWeb(data as WebReadableStream<Uint8Array>)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes, filename };
}

describe('encryptForRecipient', () => {
  it('encrypts a report so that the private key recovers the exact bytes', async () => {
    const report = await writeReportFile(dir.path, '20250621_full.csv', instrumentCsv(40_000)); // ~2.4 MB
    const out = join(dir.path, '20250621_full.csv.pgp');
    const encrypted = await encryptForRecipient(report.path, out, publicKey);

    const onDisk = await readFile(out);
    expect(encrypted).toEqual({ path: out, bytes: onDisk.length, sha256: createHash('sha256').update(onDisk).digest('hex') });
    expect(onDisk.includes(Buffer.from('instrument_key'))).toBe(false); // not plaintext
    const back = await decryptFile(out, false);
    expect(back).toEqual({ sha256: report.sha256, bytes: report.bytes, filename: '20250621_full.csv' });
    expect((await readdir(dir.path)).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('writes ASCII armour when asked', async () => {
    const report = await writeReportFile(dir.path, 'small.csv', instrumentCsv(50));
    const out = join(dir.path, 'small.csv.asc');
    await encryptForRecipient(report.path, out, publicKey, { armor: true });
    expect((await readFile(out, 'utf8')).startsWith('-----BEGIN PGP MESSAGE-----')).toBe(true);
    expect((await decryptFile(out, true)).sha256).toBe(report.sha256);
  });

  it('refuses a key that is not a public key, and leaves no output behind', async () => {
    const report = await writeReportFile(dir.path, 'nokey.csv', instrumentCsv(5));
    const out = join(dir.path, 'nokey.csv.pgp');
    await expect(encryptForRecipient(report.path, out, 'not a key')).rejects.toThrow();
    expect((await readdir(dir.path)).filter((n) => n.startsWith('nokey.csv.pgp'))).toEqual([]);
  });
});
