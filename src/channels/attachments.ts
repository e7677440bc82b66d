// Checks a delivery's attachments before anything is sent: safe names, files present, sizes as recorded.
import { stat } from 'node:fs/promises';
import { ChannelError } from './errors';
import type { DeliveryAttachment } from './types';

/**
 * Fails permanently, before any connection, when an attachment cannot be sent as recorded. A file name becomes a
 * remote path (SFTP) or a header (multipart, email), so anything that could climb directories or break a header is
 * refused. The size check is cheap (stat) and catches a truncated or replaced file; the receiver checks the SHA-256.
 */
export async function checkAttachments(attachments: readonly DeliveryAttachment[], what: string): Promise<void> {
  const seen = new Set<string>();
  for (const a of attachments) {
    if (!isSafeFileName(a.fileName)) {
      throw new ChannelError('INVALID_MESSAGE', `${what}: attachment name ${JSON.stringify(a.fileName)} is not a plain file name`, { permanent: true });
    }
    if (seen.has(a.fileName)) {
      throw new ChannelError('INVALID_MESSAGE', `${what}: two attachments are named ${a.fileName}`, { permanent: true });
    }
    seen.add(a.fileName);
    if (!/^[\w.+-]+\/[\w.+-]+(\s*;[^\r\n]*)?$/.test(a.contentType)) {
      throw new ChannelError('INVALID_MESSAGE', `${what}: attachment ${a.fileName} has an unusable content type ${JSON.stringify(a.contentType)}`, {
        permanent: true,
      });
    }
    let size: number;
    try {
      const st = await stat(a.path);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (err) {
      throw new ChannelError('FILE_MISSING', `${what}: attachment ${a.fileName} cannot be read at ${a.path}: ${(err as Error).message}`, {
        permanent: true,
        cause: err,
      });
    }
    if (size !== a.bytes) {
      throw new ChannelError('FILE_MISSING', `${what}: attachment ${a.fileName} is ${size} bytes on disk, ${a.bytes} recorded; regenerate the report`, {
        permanent: true,
      });
    }
  }
}

export function isSafeFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && name !== '.' && name !== '..' && !/[/\\\u0000-\u001f\u007f]/.test(name);
}

export function totalBytes(attachments: readonly DeliveryAttachment[]): number {
  return attachments.reduce((sum, a) => sum + a.bytes, 0);
}

/** Human-readable size for messages people read (Slack, email, push). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
