// A multipart/form-data body streamed from files on disk, with its exact length known before the first byte is sent.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export interface MultipartFile {
  /** Form field name; `file` for the original `curl -F file=@…` receivers. */
  field: string;
  fileName: string;
  contentType: string;
  path: string;
  bytes: number;
}

/** A small form field sent before the files (e.g. the signed manifest); held in memory, so keep it small. */
export interface MultipartField {
  field: string;
  contentType: string;
  text: string;
}

export interface MultipartBody {
  body: Readable;
  contentType: string;
  /** Sent as Content-Length: receivers and proxies that refuse chunked uploads still accept it. */
  contentLength: number;
}

/** Builds the body lazily: `fields` first, then each file, opened only when its turn comes and read in chunks. */
export function multipartBody(files: readonly MultipartFile[], fields: readonly MultipartField[] = []): MultipartBody {
  const boundary = `refdata-${randomBytes(16).toString('hex')}`;
  const heads = files.map((f) => Buffer.from(partHead(boundary, f), 'utf8'));
  const tail = Buffer.from(`--${boundary}--\r\n`, 'utf8');
  const crlf = Buffer.from('\r\n', 'utf8');
  const leading = Buffer.concat(fields.flatMap((f) => [Buffer.from(fieldHead(boundary, f), 'utf8'), Buffer.from(f.text, 'utf8'), crlf]));
  const contentLength = leading.length + heads.reduce((n, h, i) => n + h.length + files[i].bytes + crlf.length, 0) + tail.length;

  async function* parts(): AsyncGenerator<Buffer> {
    if (leading.length > 0) yield leading;
    for (let i = 0; i < files.length; i++) {
      yield heads[i];
      yield* createReadStream(files[i].path, { highWaterMark: 64 * 1024 });
      yield crlf;
    }
    yield tail;
  }
  return { body: Readable.from(parts(), { objectMode: false }), contentType: `multipart/form-data; boundary=${boundary}`, contentLength };
}

function partHead(boundary: string, f: MultipartFile): string {
  // RFC 7578 §4.2: UTF-8 in filename="…", with '"' percent-encoded as browsers do; filename* must not be used.
  // Names reaching here have no CR, LF or backslash (attachments.ts refuses them).
  const name = f.fileName.replace(/"/g, '%22');
  return (
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="${f.field}"; filename="${name}"\r\n` +
    `Content-Type: ${f.contentType}\r\n\r\n`
  );
}

function fieldHead(boundary: string, f: MultipartField): string {
  return `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"\r\nContent-Type: ${f.contentType}\r\n\r\n`;
}
