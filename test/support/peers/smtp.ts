// A real SMTP server (the smtp-server package) on 127.0.0.1 that keeps each accepted message raw, with its envelope.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  /** The message exactly as the client sent it after DATA. */
  raw: Buffer;
  /** Whether the session was encrypted (STARTTLS) when the message arrived. */
  secure: boolean;
  user?: string;
}

export interface SmtpPeerOptions {
  /** username → password; when set, AUTH is offered and a wrong password gets 535. */
  users?: Record<string, string>;
  /** With a certificate, STARTTLS is offered; without, it is disabled. */
  tls?: { key: string; cert: string };
  /** Recipients answered with 550 at RCPT TO. */
  unknownRecipients?: string[];
}

export interface SmtpPeer {
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

export async function startSmtpPeer(opts: SmtpPeerOptions = {}): Promise<SmtpPeer> {
  const messages: ReceivedMail[] = [];
  const unknown = new Set((opts.unknownRecipients ?? []).map((a) => a.toLowerCase()));
  const options: SMTPServerOptions = {
    logger: false,
    banner: 'refdata test peer',
    disabledCommands: opts.tls ? [] : ['STARTTLS'],
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    authOptional: !opts.users,
    // Only for the plain-text tests; with STARTTLS the client authenticates after encrypting.
    allowInsecureAuth: !opts.tls,
    onAuth(auth, _session, callback) {
      if (opts.users && opts.users[auth.username ?? ''] === auth.password) callback(null, { user: auth.username });
      else callback(smtpError('5.7.8 Authentication credentials invalid', 535));
    },
    onRcptTo(address, _session, callback) {
      if (unknown.has(address.address.toLowerCase())) callback(smtpError(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`, 550));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          mailFrom: mailFrom ? mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        // Postfix's wording, which the channel reads the queue id from.
        callback(null, `Ok: queued as ${randomBytes(5).toString('hex').toUpperCase()}`);
      });
    },
  };
  const server = new SMTPServer(options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface MimePart {
  headers: string;
  body: string;
}

/**
 * Splits a raw message into its leaf MIME parts: enough for the tests to find an attachment by file name and decode
 * it. Deliberately small and independent of nodemailer, so the test reads what went over the wire.
 */
export function mimeParts(raw: string): MimePart[] {
  const split = raw.indexOf('\r\n\r\n');
  const headers = raw.slice(0, split);
  const body = raw.slice(split + 4);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(unfold(headers).match(/^content-type:.*$/im)?.[0] ?? '')?.[1];
  if (!boundary) return [{ headers, body }];
  return body
    .split(`--${boundary}`)
    .slice(1, -1) // before the first delimiter: preamble; after the last: the closing "--"
    .flatMap((p) => mimeParts(p.replace(/^\r\n/, '')));
}

export function unfold(headers: string): string {
  return headers.replace(/\r\n[ \t]+/g, ' ');
}

export function headerOf(headers: string, name: string): string | undefined {
  return new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfold(headers))?.[1];
}

/** A leaf part's body decoded per its Content-Transfer-Encoding (base64, quoted-printable, or as is). */
export function decodedBody(part: MimePart): Buffer {
  const encoding = (headerOf(part.headers, 'Content-Transfer-Encoding') ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64');
  if (encoding === 'quoted-printable') {
    const joined = part.body.replace(/=\r\n/g, ''); // soft line breaks
    const bytes: number[] = [];
    for (let i = 0; i < joined.length; i++) {
      const hex = joined[i] === '=' ? /^[0-9A-F]{2}$/i.exec(joined.slice(i + 1, i + 3))?.[0] : undefined;
      if (hex) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
    return Buffer.from(bytes);
  }
  return Buffer.from(part.body, 'utf8');
}
