// Signed, expiring download links for delivered files (an email too large to attach links them instead).
// A link names a delivery and one of its recorded files, never a path; its HMAC covers both and the expiry.
import crypto from 'node:crypto';
import type { DeliveryAttachment } from '../channels/types';
import type { SecretsKey } from './sealed-config';

export interface DownloadLinkSettings {
  /** REFDATA_PUBLIC_URL: the API as the recipients reach it, e.g. https://refdata.example.com (no trailing path needed). */
  baseUrl: string;
  /** HMAC key, derived from the secrets key so API and workers that share it agree without another secret. */
  key: Buffer;
  /** How long a link works after the attempt that sent it. */
  ttlMs: number;
}

/** The path of the download route; `:delivery_id` and `:name` are the delivery and the file name it recorded. */
export const DOWNLOAD_ROUTE = '/api/v1/downloads/:delivery_id/:name';

/** A key of its own (HKDF), so a download signature can never be mistaken for anything the secrets key seals. */
export function downloadKeyFrom(secrets: SecretsKey): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', secrets.key, Buffer.alloc(0), 'refdata download links v1', 32));
}

export function downloadLinkSettings(secrets: SecretsKey | null, baseUrl: string | undefined, ttlMs: number): DownloadLinkSettings | null {
  return secrets && baseUrl ? { baseUrl, key: downloadKeyFrom(secrets), ttlMs } : null;
}

function signatureOf(key: Buffer, deliveryId: string, fileName: string, expires: number): string {
  // NUL separators: neither a delivery id nor a file name can hold one, so no two triples sign the same text.
  return crypto.createHmac('sha256', key).update(`${deliveryId}\u0000${fileName}\u0000${expires}`).digest('base64url');
}

export function downloadUrl(s: DownloadLinkSettings, deliveryId: string, fileName: string, now: Date): string {
  const expires = Math.floor((now.getTime() + s.ttlMs) / 1000);
  const url = new URL(`api/v1/downloads/${encodeURIComponent(deliveryId)}/${encodeURIComponent(fileName)}`, s.baseUrl.endsWith('/') ? s.baseUrl : `${s.baseUrl}/`);
  url.searchParams.set('expires', String(expires));
  url.searchParams.set('signature', signatureOf(s.key, deliveryId, fileName, expires));
  return url.toString();
}

/** Every attachment of a delivery with its signed link (the channel decides which ones it links). */
export function withDownloadLinks(s: DownloadLinkSettings, deliveryId: string, attachments: readonly DeliveryAttachment[], now: Date): DeliveryAttachment[] {
  return attachments.map((a) => ({ ...a, url: downloadUrl(s, deliveryId, a.fileName, now) }));
}

export type LinkCheck = 'valid' | 'bad-signature' | 'expired';

/** The signature first: an expired link says so only when it was genuine, so a forged one learns nothing. */
export function checkDownloadLink(key: Buffer, deliveryId: string, fileName: string, expires: string, signature: string, now: Date): LinkCheck {
  if (!/^\d{1,12}$/.test(expires)) return 'bad-signature';
  const want = Buffer.from(signatureOf(key, deliveryId, fileName, Number(expires)), 'utf8');
  const got = Buffer.from(signature, 'utf8');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return 'bad-signature';
  return Number(expires) * 1000 <= now.getTime() ? 'expired' : 'valid';
}
