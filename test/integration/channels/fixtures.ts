// Deliveries for the channel tests: report files generated on disk by code, messages and contexts around them.
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChannelContext, DeliveryAttachment, DeliveryMessage } from '../../../src/channels';
import { ChannelError } from '../../../src/channels';

/** A CSV like the nightly full file, `rows` instruments long (about 60 bytes a row). */
export function instrumentCsv(rows: number): string {
  const lines = ['instrument_key,exchange,tradingsymbol,lot_size,tick_size'];
  for (let i = 0; i < rows; i++) lines.push(`NSE_EQ|INE${String(i).padStart(9, '0')},NSE,SYM${i},${1 + (i % 50)},0.05`);
  return `${lines.join('\n')}\n`;
}

export async function writeReportFile(dir: string, fileName: string, content: string | Buffer, url?: string): Promise<DeliveryAttachment> {
  const path = join(dir, fileName);
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  await writeFile(path, bytes);
  return {
    fileName,
    path,
    contentType: fileName.endsWith('.csv') ? 'text/csv' : 'application/octet-stream',
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...(url ? { url } : {}),
  };
}

export function deliveryMessage(overrides: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return {
    deliveryId: `dlv_${randomBytes(6).toString('hex')}`,
    createdAt: '2025-06-21T10:00:00.000Z',
    reportId: 'report_20250621_001',
    reportType: 'REFERENCE_DATA',
    title: 'Instrument master 2025-06-21',
    summary: 'Full file: 3 instruments added, 1 cancelled.',
    metadata: { business_date: '2025-06-21', portfolio_id: 'portfolio_001', rows: 1200 },
    attachments: [],
    link: 'https://refdata.example.com/reports/report_20250621_001',
    ...overrides,
  };
}

/** A context that reaches peers on 127.0.0.1 (allowed explicitly, as production must not). */
export function loopbackContext(overrides: Partial<ChannelContext> = {}): ChannelContext {
  return { signal: new AbortController().signal, timeoutMs: 10_000, allowPrivateNetworks: true, ...overrides };
}

/** Runs a send that must fail and returns its ChannelError (fails the test on success or on another error type). */
export async function failureOf(send: Promise<unknown>): Promise<ChannelError> {
  try {
    await send;
  } catch (err) {
    if (err instanceof ChannelError) return err;
    throw new Error(`expected a ChannelError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the send to fail, it succeeded');
}

/** A port that was free a moment ago and has nobody listening: connection refused. */
export { findFreePort as closedPort } from '../../../src/temporal/dev-server';
