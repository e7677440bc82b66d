// SFTP against Debian's OpenSSH server started by the test: key and password logins, part-then-rename, host key pinning.
import { existsSync, watch } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sftpConfigSchema, sftpSender, type SftpConfig } from '../../../src/channels/sftp';
import { sshdUnavailableReason, startSshd, type SshdPeer } from '../../support/peers/sshd';
import { makeTempDir, type TempDir } from '../../support/temp';
import { closedPort, deliveryMessage, failureOf, instrumentCsv, loopbackContext, writeReportFile } from './fixtures';

const unavailable = sshdUnavailableReason();
// Said out loud, so a skipped suite is never mistaken for a passing one.
if (unavailable) process.stderr.write(`\nSFTP channel tests SKIPPED: ${unavailable}\n\n`);

describe.skipIf(unavailable !== undefined)(`SFTP against OpenSSH sshd${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let sshd: SshdPeer;
  let dir: TempDir;
  beforeAll(async () => {
    dir = await makeTempDir('refdata-sftp-');
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
    await dir?.cleanup();
  });

  function rootConfig(overrides: Record<string, unknown> = {}): SftpConfig {
    return sftpConfigSchema.parse({
      host: '127.0.0.1', port: sshd.port, username: 'root', auth: { type: 'key', privateKey: sshd.root.privateKey },
      remoteDir: sshd.root.uploadDir, hostKeySha256: sshd.hostKeySha256, ...overrides,
    });
  }

  it('uploads with key auth under a .part name, renames it into place, and leaves nothing else behind', async () => {
    const csv = await writeReportFile(dir.path, '20250621_full.csv', instrumentCsv(40_000)); // ~2.4 MB
    const manifest = await writeReportFile(dir.path, '20250621_manifest.json', JSON.stringify({ rows: 40_000 }));
    // inotify sees what the server did in the directory, in order.
    const seen: string[] = [];
    const watcher = watch(sshd.root.uploadDir, (_event, name) => name && seen.push(String(name)));
    const result = await sftpSender.send(deliveryMessage({ attachments: [csv, manifest] }), rootConfig(), loopbackContext());
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the last events arrive
    watcher.close();

    expect((await readFile(join(sshd.root.uploadDir, '20250621_full.csv'))).equals(await readFile(csv.path))).toBe(true);
    expect((await readFile(join(sshd.root.uploadDir, '20250621_manifest.json'))).equals(await readFile(manifest.path))).toBe(true);
    expect((await readdir(sshd.root.uploadDir)).filter((n) => n.endsWith('.part'))).toEqual([]);
    expect(result.remoteId).toBe(`${sshd.root.uploadDir}/20250621_full.csv,${sshd.root.uploadDir}/20250621_manifest.json`);
    expect(result.detail).toContain(sshd.hostKeySha256);
    expect(sshd.log()).toMatch(/Accepted publickey for root/);
    // Written under the .part name first; the final name appears only afterwards (the rename).
    expect(seen).toContain('.20250621_full.csv.part');
    expect(seen.indexOf('20250621_full.csv')).toBeGreaterThan(seen.indexOf('.20250621_full.csv.part'));
  });

  it('logs in with a passphrase-protected PEM key', async () => {
    const file = await writeReportFile(dir.path, 'pem.csv', instrumentCsv(10));
    const auth = { type: 'key', privateKey: sshd.rootEncrypted.privateKey, passphrase: sshd.rootEncrypted.passphrase };
    await sftpSender.send(deliveryMessage({ attachments: [file] }), rootConfig({ auth }), loopbackContext());
    expect(existsSync(join(sshd.root.uploadDir, 'pem.csv'))).toBe(true);
  });

  it('logs in with a password as an SFTP-only local user', async () => {
    const file = await writeReportFile(dir.path, 'by-password.csv', instrumentCsv(10));
    const u = sshd.passwordUser;
    const config = rootConfig({ username: u.username, auth: { type: 'password', password: u.password }, remoteDir: u.uploadDir });
    await sftpSender.send(deliveryMessage({ attachments: [file] }), config, loopbackContext());
    expect((await readFile(join(u.uploadDir, 'by-password.csv'))).equals(await readFile(file.path))).toBe(true);
    expect(sshd.log()).toMatch(new RegExp(`Accepted password for ${u.username}`));
  });

  it('fails permanently (AUTH_FAILED) on a wrong password or an unknown key', async () => {
    const file = await writeReportFile(dir.path, 'denied.csv', instrumentCsv(10));
    const msg = deliveryMessage({ attachments: [file] });
    const u = sshd.passwordUser;
    const wrongPassword = await failureOf(sftpSender.send(msg, rootConfig({ username: u.username, auth: { type: 'password', password: 'not-it' }, remoteDir: u.uploadDir }), loopbackContext()));
    expect(wrongPassword).toMatchObject({ code: 'AUTH_FAILED', permanent: true });
    const unknownKey = await failureOf(sftpSender.send(msg, rootConfig({ auth: { type: 'key', privateKey: sshd.strangerKey } }), loopbackContext()));
    expect(unknownKey).toMatchObject({ code: 'AUTH_FAILED', permanent: true });
  });

  it('refuses a server whose host key differs from the pinned one, before logging in', async () => {
    const file = await writeReportFile(dir.path, 'pinned.csv', instrumentCsv(10));
    const wrongPin = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const err = await failureOf(sftpSender.send(deliveryMessage({ attachments: [file] }), rootConfig({ hostKeySha256: wrongPin }), loopbackContext()));
    expect(err).toMatchObject({ code: 'HOST_KEY_MISMATCH', permanent: true });
    expect(err.message).toContain(sshd.hostKeySha256);
    expect(existsSync(join(sshd.root.uploadDir, 'pinned.csv'))).toBe(false);
  });

  it('replaces an existing file atomically by default, and refuses to when overwrite is off', async () => {
    const v1 = await writeReportFile(dir.path, 'same-name.csv', 'version 1\n');
    await sftpSender.send(deliveryMessage({ attachments: [v1] }), rootConfig(), loopbackContext());
    await writeFile(v1.path, 'version 2, longer\n');
    const v2 = { ...v1, bytes: 'version 2, longer\n'.length };
    await sftpSender.send(deliveryMessage({ attachments: [v2] }), rootConfig(), loopbackContext());
    expect(await readFile(join(sshd.root.uploadDir, 'same-name.csv'), 'utf8')).toBe('version 2, longer\n');
    const err = await failureOf(sftpSender.send(deliveryMessage({ attachments: [v2] }), rootConfig({ overwrite: false }), loopbackContext()));
    expect(err).toMatchObject({ code: 'REMOTE_REJECTED', permanent: true });
  });

  it('fails permanently (REMOTE_REJECTED) when the remote directory does not exist', async () => {
    const file = await writeReportFile(dir.path, 'nowhere.csv', instrumentCsv(10));
    const err = await failureOf(sftpSender.send(deliveryMessage({ attachments: [file] }), rootConfig({ remoteDir: join(sshd.root.uploadDir, 'missing') }), loopbackContext()));
    expect(err).toMatchObject({ code: 'REMOTE_REJECTED', permanent: true });
  });

  it('reports a refused connection as retryable', async () => {
    const file = await writeReportFile(dir.path, 'refused.csv', instrumentCsv(10));
    const err = await failureOf(sftpSender.send(deliveryMessage({ attachments: [file] }), rootConfig({ port: await closedPort() }), loopbackContext()));
    expect(err).toMatchObject({ code: 'CONNECTION', permanent: false });
  });

  it('refuses a loopback host unless private networks are allowed', async () => {
    const file = await writeReportFile(dir.path, 'policy.csv', instrumentCsv(10));
    const err = await failureOf(sftpSender.send(deliveryMessage({ attachments: [file] }), rootConfig(), loopbackContext({ allowPrivateNetworks: false })));
    expect(err).toMatchObject({ code: 'DESTINATION_REFUSED', permanent: true });
  });
});
