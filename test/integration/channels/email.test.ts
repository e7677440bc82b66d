// EMAIL against a real SMTP server on 127.0.0.1 (smtp-server): envelope, subject, attachment bytes, STARTTLS, auth, refusals.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailConfigSchema, emailSender, type EmailConfig } from '../../../src/channels/email';
import { checkDestination } from '../../../src/reporting/destination';
import { decodedBody, headerOf, mimeParts, startSmtpPeer, type SmtpPeer } from '../../support/peers/smtp';
import { makeSelfSignedCert, type SelfSignedCert } from '../../support/peers/tls-cert';
import { makeTempDir, type TempDir } from '../../support/temp';
import { closedPort, deliveryMessage, failureOf, instrumentCsv, loopbackContext, writeReportFile } from './fixtures';

let dir: TempDir;
let cert: SelfSignedCert;
let plain: SmtpPeer; // no TLS, no auth, one unknown mailbox
let secured: SmtpPeer; // STARTTLS + AUTH
beforeAll(async () => {
  dir = await makeTempDir('refdata-email-');
  cert = await makeSelfSignedCert(dir.path);
  plain = await startSmtpPeer({ unknownRecipients: ['nobody@client.example'] });
  secured = await startSmtpPeer({ tls: cert, users: { reports: 's3cret-pass' } });
});
afterAll(async () => {
  await plain?.close();
  await secured?.close();
  await dir.cleanup();
});

function plainConfig(overrides: Record<string, unknown> = {}): EmailConfig {
  return emailConfigSchema.parse({
    host: '127.0.0.1', port: plain.port, security: 'none', from: 'reports@refdata.example',
    to: ['ops@client.example', 'risk@client.example'], cc: ['audit@client.example'],
    subjectTemplate: '[{reportType}] {title} ({metadata.business_date})', ...overrides,
  });
}

describe('EMAIL', () => {
  it('sends to every recipient with the rendered subject and the report attached byte for byte', async () => {
    const csv = await writeReportFile(dir.path, '20250621_full.csv', instrumentCsv(20_000)); // ~1.2 MB
    const msg = deliveryMessage({ attachments: [csv] });
    const result = await emailSender.send(msg, plainConfig(), loopbackContext());

    const mail = plain.messages.at(-1)!;
    expect(mail.mailFrom).toBe('reports@refdata.example');
    expect(mail.rcptTo.sort()).toEqual(['audit@client.example', 'ops@client.example', 'risk@client.example']);
    const raw = mail.raw.toString('utf8');
    const top = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(headerOf(top, 'Subject')).toBe('[REFERENCE_DATA] Instrument master 2025-06-21 (2025-06-21)');
    expect(headerOf(top, 'Message-ID')).toBe(`<${msg.deliveryId}@refdata.example>`);
    expect(headerOf(top, 'X-Refdata-Delivery-Id')).toBe(msg.deliveryId);
    const attachment = mimeParts(raw).find((p) => /filename="?20250621_full\.csv/.test(p.headers));
    expect(attachment, 'attachment part').toBeDefined();
    expect(headerOf(attachment!.headers, 'Content-Transfer-Encoding')).toBe('base64');
    expect(decodedBody(attachment!).equals(await readFile(csv.path))).toBe(true);
    const text = mimeParts(raw).find((p) => /text\/plain/.test(headerOf(p.headers, 'Content-Type') ?? ''));
    expect(decodedBody(text!).toString('utf8')).toContain(csv.sha256);
    expect(result.remoteId).toMatch(/^[0-9A-F]{10}$/); // the server's queue id
    expect(result.detail).toContain('3 recipient(s)');
  });

  it('links files instead of attaching them when they exceed maxAttachmentBytes', async () => {
    const big = await writeReportFile(dir.path, 'big.csv', instrumentCsv(2_000), 'https://refdata.example.com/files/big.csv');
    const result = await emailSender.send(deliveryMessage({ attachments: [big] }), plainConfig({ maxAttachmentBytes: 1024 }), loopbackContext());
    const raw = plain.messages.at(-1)!.raw.toString('utf8');
    expect(raw).not.toMatch(/filename="?big\.csv/);
    const text = mimeParts(raw).find((p) => /text\/plain/.test(headerOf(p.headers, 'Content-Type') ?? '')) ?? mimeParts(raw)[0];
    expect(decodedBody(text).toString('utf8')).toContain('https://refdata.example.com/files/big.csv');
    expect(result.detail).toContain('1 file(s) linked');
    const unlinkable = await writeReportFile(dir.path, 'nolink.csv', instrumentCsv(2_000));
    const err = await failureOf(emailSender.send(deliveryMessage({ attachments: [unlinkable] }), plainConfig({ maxAttachmentBytes: 1024 }), loopbackContext()));
    expect(err).toMatchObject({ code: 'TOO_LARGE', permanent: true });
  });

  it('uses STARTTLS with a trusted certificate and authenticates', async () => {
    const config = emailConfigSchema.parse({
      host: '127.0.0.1', port: secured.port, security: 'starttls', auth: { user: 'reports', pass: 's3cret-pass' },
      from: 'reports@refdata.example', to: ['ops@client.example'],
    });
    await emailSender.send(deliveryMessage(), config, loopbackContext({ trustedCa: [cert.cert] }));
    expect(secured.messages.at(-1)).toMatchObject({ secure: true, user: 'reports', rcptTo: ['ops@client.example'] });
  });

  it('fails permanently (TLS) when the server certificate is not trusted', async () => {
    const config = emailConfigSchema.parse({
      host: '127.0.0.1', port: secured.port, security: 'starttls', auth: { user: 'reports', pass: 's3cret-pass' },
      from: 'reports@refdata.example', to: ['ops@client.example'],
    });
    const err = await failureOf(emailSender.send(deliveryMessage(), config, loopbackContext()));
    expect(err).toMatchObject({ code: 'TLS', permanent: true });
  });

  it('fails permanently (AUTH_FAILED, 535) on a wrong password', async () => {
    const config = emailConfigSchema.parse({
      host: '127.0.0.1', port: secured.port, security: 'starttls', auth: { user: 'reports', pass: 'wrong' },
      from: 'reports@refdata.example', to: ['ops@client.example'],
    });
    const err = await failureOf(emailSender.send(deliveryMessage(), config, loopbackContext({ trustedCa: [cert.cert] })));
    expect(err).toMatchObject({ code: 'AUTH_FAILED', permanent: true, status: 535 });
  });

  it('fails permanently (INVALID_ADDRESS, 550) when the server refuses every recipient', async () => {
    const before = plain.messages.length;
    const err = await failureOf(emailSender.send(deliveryMessage(), plainConfig({ to: ['nobody@client.example'], cc: [] }), loopbackContext()));
    expect(err).toMatchObject({ code: 'INVALID_ADDRESS', permanent: true, status: 550 });
    expect(plain.messages.length).toBe(before);
  });

  it('delivers to the accepted recipients and names the refused ones when only some are refused', async () => {
    const result = await emailSender.send(deliveryMessage(), plainConfig({ to: ['ops@client.example', 'nobody@client.example'], cc: [] }), loopbackContext());
    expect(plain.messages.at(-1)!.rcptTo).toEqual(['ops@client.example']);
    expect(result.detail).toContain('refused: nobody@client.example');
  });

  it('reports a refused connection as retryable', async () => {
    const err = await failureOf(emailSender.send(deliveryMessage(), plainConfig({ port: await closedPort() }), loopbackContext()));
    expect(err).toMatchObject({ code: 'CONNECTION', permanent: false });
  });

  it('keeps the subject on one line whatever the metadata holds', async () => {
    await emailSender.send(deliveryMessage({ metadata: { business_date: 'x\r\nBcc: evil@example.com' } }), plainConfig(), loopbackContext());
    const raw = plain.messages.at(-1)!.raw.toString('utf8');
    expect(raw.slice(0, raw.indexOf('\r\n\r\n'))).not.toMatch(/^Bcc:/im);
  });

  it.each(['127.0.0.1', 'localhost', '169.254.169.254'])('refuses an SMTP server at %s (private) unless private networks are allowed, before connecting', async (host) => {
    const before = plain.messages.length;
    const err = await failureOf(emailSender.send(deliveryMessage(), plainConfig({ host }), loopbackContext({ allowPrivateNetworks: false })));
    expect(err).toMatchObject({ code: 'DESTINATION_REFUSED', permanent: true });
    expect(err.message).toMatch(/SMTP server: .* private\/loopback\/link-local address/);
    expect(plain.messages.length).toBe(before);
    // And when the channel is subscribed, as for webhooks.
    await expect(checkDestination('EMAIL', plainConfig({ host }), false)).rejects.toMatchObject({ message: expect.stringContaining('private/loopback/link-local') });
    await expect(checkDestination('EMAIL', plainConfig({ host }), true)).resolves.toBeUndefined();
  });
});
