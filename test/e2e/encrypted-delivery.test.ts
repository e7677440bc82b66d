// encryption_required end to end: a report delivered to a real webhook receiver and a real OpenSSH server arrives
// encrypted for the subscriber's OpenPGP key; the private key recovers the exact bytes. No key: a clear failure.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decrypt, generateKey, readMessage, readPrivateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './harness';
import { parseMultipart, startHttpReceiver, type HttpReceiver } from '../support/peers/http-receiver';
import { startSshd, sshdUnavailableReason, type SshdPeer } from '../support/peers/sshd';
import { call, startReportingSystem, type ReportingSystem } from '../support/reporting-system';
import { fastPolicies } from '../support/reporting';

let sys: ReportingSystem;
let receiver: HttpReceiver;
let sshd: SshdPeer | null = null;
let operator: string;
let keys: { publicKey: string; privateKey: string };
const noSshd = sshdUnavailableReason();

beforeAll(async () => {
  sys = await startReportingSystem({ testFile: __filename, retry: fastPolicies(), worker: 'in-process' });
  receiver = await startHttpReceiver();
  if (!noSshd) sshd = await startSshd();
  operator = await sys.key('operator');
  keys = await generateKey({ userIDs: [{ name: 'Client 009', email: 'pgp@client009.example' }], format: 'armored' });
});

afterAll(async () => {
  await sshd?.stop();
  await receiver?.close();
  await sys?.stop();
});

async function decrypted(bytes: Buffer): Promise<{ data: Buffer; filename: string }> {
  const message = await readMessage({ binaryMessage: bytes });
  const out = await decrypt({ message, decryptionKeys: await readPrivateKey({ armoredKey: keys.privateKey }), format: 'binary' });
  return { data: Buffer.from(out.data as Uint8Array), filename: out.filename };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function deliveryStatus(id: string): Promise<{ status: string; error_details: unknown }> {
  return waitFor(`delivery ${id} final`, async () => {
    const res = await call(sys.baseUrl, operator, 'GET', `/api/v1/reporting/delivery/${id}/status`);
    const s = res.json as { status: string; error_details: unknown };
    return s.status === 'delivered' || s.status === 'failed' ? s : null;
  }, 60_000);
}

describe('encryption_required', () => {
  it('encrypts the file for the subscriber key before the webhook upload and the SFTP upload; both decrypt to the same bytes', async () => {
    const channels: unknown[] = [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url('/pgp'), encryption: { public_key: keys.publicKey } } }];
    if (sshd) {
      channels.push({
        channel_type: 'SFTP',
        config: {
          host: '127.0.0.1', port: sshd.port, username: sshd.root.username, auth: { type: 'key', privateKey: sshd.root.privateKey },
          remoteDir: sshd.root.uploadDir, hostKeySha256: sshd.hostKeySha256, encryption: { public_key: keys.publicKey },
        },
      });
    }
    const sub = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/subscribe', {
      subscriber_id: 'client_009', report_types: ['COMPLIANCE_REPORT'], delivery_preferences: { channels },
    });
    expect(sub.status).toBe(201);
    // Public keys are not secrets: the subscriber sees the key it gave.
    expect(JSON.stringify(sub.json)).toContain('BEGIN PGP PUBLIC KEY BLOCK');

    const plain = Buffer.from(`isin,holding\n${Array.from({ length: 20_000 }, (_, i) => `INE${String(i).padStart(9, '0')},${i * 7}`).join('\n')}\n`);
    const file = path.join(sys.reportRoot, 'compliance_20250621.csv');
    await fs.writeFile(file, plain);
    const res = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/deliver', {
      report: { report_id: 'compliance_20250621', report_type: 'COMPLIANCE_REPORT', title: 'Holdings', file_path: file }, encryption_required: true,
    });
    expect(res.status).toBe(202);
    const deliveries = res.json.deliveries as { delivery_id: string; channel: string }[];
    expect(deliveries).toHaveLength(channels.length);
    for (const d of deliveries) expect((await deliveryStatus(d.delivery_id)).status).toBe('delivered');

    const webhook = deliveries.find((d) => d.channel === 'API_WEBHOOK')!;
    const req = receiver.requests.find((r) => r.headers['webhook-id'] === webhook.delivery_id)!;
    const parts = parseMultipart(req.body, String(req.headers['content-type']));
    const filePart = parts.find((p) => p.fileName)!;
    expect(filePart.fileName).toBe('compliance_20250621.csv.pgp');
    expect(filePart.data.includes(Buffer.from('INE000000001'))).toBe(false);
    const back = await decrypted(filePart.data);
    expect(sha256(back.data)).toBe(sha256(plain));
    expect(back.filename).toBe('compliance_20250621.csv');

    if (sshd) {
      const uploaded = await fs.readFile(path.join(sshd.root.uploadDir, 'compliance_20250621.csv.pgp'));
      expect(sha256((await decrypted(uploaded)).data)).toBe(sha256(plain));
      await expect(fs.access(path.join(sshd.root.uploadDir, 'compliance_20250621.csv'))).rejects.toThrow();
    }

    // Each encrypted copy is registered for the retention sweep.
    const copies = await sys.db.retention.listDeliveryFiles(100);
    expect(copies.filter((c) => c.kind === 'encrypted-copy' && c.reportId === 'compliance_20250621').map((c) => c.deliveryId).sort())
      .toEqual(deliveries.map((d) => d.delivery_id).sort());
  });

  it('a channel without a public key fails the delivery at once, naming the fix; nothing is sent in clear', async () => {
    const sub = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/subscribe', {
      subscriber_id: 'client_010', report_types: ['RISK_REPORT'],
      delivery_preferences: { channels: [{ channel_type: 'API_WEBHOOK', config: { url: receiver.url('/nokey') } }] },
    });
    expect(sub.status).toBe(201);
    const res = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/deliver', {
      report: { report_id: 'risk_1', report_type: 'RISK_REPORT', content: { content_type: 'text/plain', text: 'VaR 1.2m' } }, encryption_required: true,
    });
    const [d] = res.json.deliveries as { delivery_id: string }[];
    const final = await deliveryStatus(d!.delivery_id);
    expect(final.status).toBe('failed');
    expect(JSON.stringify(final.error_details)).toMatch(/requires encryption.*no encryption\.public_key/);
    expect(receiver.requests.filter((r) => r.path === '/nokey')).toHaveLength(0);
  });

  it('an inline body of an encrypted report goes as an encrypted file, never in the request body', async () => {
    const res = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/deliver', {
      report: { report_id: 'compliance_note', report_type: 'COMPLIANCE_REPORT', title: 'Note', content: { content_type: 'text/plain', text: 'breach: limit 42 exceeded' } }, encryption_required: true,
    });
    const webhook = (res.json.deliveries as { delivery_id: string; channel: string }[]).find((d) => d.channel === 'API_WEBHOOK')!;
    expect((await deliveryStatus(webhook.delivery_id)).status).toBe('delivered');
    const req = receiver.requests.find((r) => r.headers['webhook-id'] === webhook.delivery_id)!;
    expect(req.body.includes(Buffer.from('limit 42'))).toBe(false);
    const filePart = parseMultipart(req.body, String(req.headers['content-type'])).find((p) => p.fileName)!;
    expect(filePart.fileName).toBe('compliance_note-content.txt.pgp');
    expect((await decrypted(filePart.data)).data.toString()).toBe('breach: limit 42 exceeded');
  });
});

describe('a misplaced field', () => {
  it('is refused with a 400 that names it, not dropped (encryption_required belongs beside report, not inside it)', async () => {
    const res = await call(sys.baseUrl, operator, 'POST', '/api/v1/reporting/deliver', {
      report: { report_id: 'x1', report_type: 'COMPLIANCE_REPORT', content: { content_type: 'text/plain', text: 'x' }, encryption_required: true },
    });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toMatch(/additional properties|encryption_required/i);
  });
});
