// A real HTTP server on 127.0.0.1 that records every request and answers as the test scripts it (webhook and Slack peers).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer only after this long (to drive the sender's timeout). */
  delayMs?: number;
}

export interface HttpReceiver {
  /** http://127.0.0.1:<port><path> */
  url(path?: string): string;
  requests: ReceivedRequest[];
  /** How the next requests are answered; default 200 "ok". */
  respondWith(reply: (req: ReceivedRequest) => Reply): void;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = [];
  let replyFor: (req: ReceivedRequest) => Reply = () => ({ status: 200, body: 'ok' });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(received);
      const reply = replyFor(received);
      const answer = (): void => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs).unref();
      else answer();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    requests,
    respondWith(reply) {
      replyFor = reply;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface FormPart {
  name: string;
  fileName?: string;
  contentType?: string;
  data: Buffer;
}

/** A minimal multipart/form-data parser, independent of the sender's encoder, so the test checks the wire format. */
export function parseMultipart(body: Buffer, contentType: string): FormPart[] {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const after = pos + delimiter.length;
    if (body.subarray(after, after + 2).toString() === '--') break; // closing delimiter
    const headerEnd = body.indexOf('\r\n\r\n', after);
    const next = body.indexOf(delimiter, headerEnd);
    if (headerEnd === -1 || next === -1) throw new Error('truncated multipart body');
    const head = body.subarray(after + 2, headerEnd).toString('utf8');
    const data = body.subarray(headerEnd + 4, next - 2); // the CRLF before the next delimiter belongs to it
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
    parts.push({
      name: /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '',
      fileName: /\bfilename="([^"]*)"/.exec(disposition)?.[1],
      contentType: /content-type:\s*([^\r\n]*)/i.exec(head)?.[1],
      data,
    });
    pos = next;
  }
  return parts;
}
