// `format_preferences`: the first format a subscription prefers that refdata can produce, and the converted copy of a
// CSV report file in that format (JSON: an array of objects keyed by the header; XLSX: one worksheet, via exceljs).
// Copies are made once per delivery (written under a .part name, then renamed) and reused by its retries, like encrypted ones.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import ExcelJS from 'exceljs';
import Papa from 'papaparse';
import { ChannelError } from '../channels/errors';
import type { DeliveryAttachment, DeliveryMessage } from '../channels/types';
import { reportFormats, type ReportFormat } from './types';

/**
 * Formats reports already come in and that refdata never converts into: a subscription that prefers one gets its
 * files as produced (a PDF performance report stays a PDF; a CSV one goes in the next format listed, or as CSV).
 */
const AS_PRODUCED = ['PDF'] as const;

const known = (p: string): string | null => {
  const f = p.trim().toUpperCase();
  return (reportFormats as readonly string[]).includes(f) || (AS_PRODUCED as readonly string[]).includes(f) ? f : null;
};

/**
 * The first preference refdata can convert a CSV report into (case-insensitive); null when none is given (files go as
 * they are). A PDF preference is skipped here: a PDF report needs no conversion, and a CSV one cannot become a PDF.
 */
export function formatFor(preferences: readonly string[]): ReportFormat | null {
  for (const p of preferences) {
    const f = p.trim().toUpperCase();
    if ((reportFormats as readonly string[]).includes(f)) return f as ReportFormat;
  }
  return null;
}

/** Preferences refdata does not know, for a clear 400 at subscribe time. */
export function unknownFormats(preferences: readonly string[]): string[] {
  return preferences.filter((p) => known(p) === null);
}

const isCsv = (a: DeliveryAttachment) => a.fileName.toLowerCase().endsWith('.csv') || a.contentType.startsWith('text/csv');

/** Excel's sheet limit, header included: a larger report cannot be sent as XLSX. */
export const XLSX_MAX_ROWS = 1_048_576;

const contentTypes: Record<Exclude<ReportFormat, 'CSV'>, string> = {
  JSON: 'application/json',
  XLSX: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

async function* csvRows(file: string): AsyncGenerator<string[]> {
  const parser = Papa.parse(Papa.NODE_STREAM_INPUT, { header: false, skipEmptyLines: 'greedy' });
  const source = createReadStream(file);
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  for await (const row of parser as AsyncIterable<string[]>) yield row;
}

async function writeJson(source: string, out: string): Promise<void> {
  const sink = createWriteStream(out);
  const write = async (text: string) => {
    if (!sink.write(text)) await once(sink, 'drain');
  };
  let header: string[] | null = null;
  let first = true;
  await write('[');
  for await (const row of csvRows(source)) {
    if (!header) {
      header = row;
      continue;
    }
    const record = Object.fromEntries(header.map((h, i) => [h, row[i] ?? null]));
    await write(`${first ? '\n' : ',\n'}${JSON.stringify(record)}`);
    first = false;
  }
  await write('\n]\n');
  sink.end();
  await once(sink, 'finish');
}

async function writeXlsx(source: string, out: string, fileName: string): Promise<void> {
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: out, useStyles: false, useSharedStrings: false });
  const sheet = book.addWorksheet('report');
  let rows = 0;
  for await (const row of csvRows(source)) {
    if (++rows > XLSX_MAX_ROWS) {
      throw new ChannelError('TOO_LARGE', `${fileName} has more than ${XLSX_MAX_ROWS} rows, the most an XLSX sheet holds; ask for CSV or JSON instead`, { permanent: true });
    }
    sheet.addRow(row).commit();
  }
  sheet.commit();
  await book.commit();
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export interface ConvertInput {
  deliveryId: string;
  message: DeliveryMessage;
  format: ReportFormat | null | undefined;
  /** Where converted copies are written (one folder per delivery). */
  dir: string;
  onCopy?: (file: { path: string; bytes: number }) => Promise<void>;
}

/** The message with each CSV attachment replaced by its copy in the subscription's format; unchanged for CSV or no preference. */
export async function convertMessage(input: ConvertInput): Promise<DeliveryMessage> {
  const format = input.format;
  if (!format || format === 'CSV' || !input.message.attachments.some(isCsv)) return input.message;
  const dir = path.join(input.dir, input.deliveryId.replace(/[^A-Za-z0-9._-]/g, '_'));
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const attachments: DeliveryAttachment[] = [];
  for (const a of input.message.attachments) {
    if (!isCsv(a)) {
      attachments.push(a);
      continue;
    }
    const fileName = `${a.fileName.replace(/\.csv$/i, '')}.${format.toLowerCase()}`;
    const out = path.join(dir, fileName);
    // A copy from an earlier attempt is complete (renamed into place only when written): the same bytes go again.
    let bytes = (await fs.stat(out).catch(() => null))?.size;
    if (bytes === undefined) {
      // Unique per attempt: an attempt that timed out may still be converting, and must not write into this one's file.
      const part = `${out}.${randomBytes(6).toString('hex')}.part`;
      try {
        if (format === 'JSON') await writeJson(a.path, part);
        else await writeXlsx(a.path, part, a.fileName);
      } catch (err) {
        await fs.rm(part, { force: true });
        if (err instanceof ChannelError) throw err;
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        throw new ChannelError(missing ? 'FILE_MISSING' : 'INVALID_MESSAGE', `${a.fileName} could not be converted to ${format}: ${(err as Error).message}`, { permanent: !missing });
      }
      await fs.rename(part, out);
      bytes = (await fs.stat(out)).size;
      await input.onCopy?.({ path: out, bytes });
    }
    attachments.push({ fileName, path: out, contentType: contentTypes[format], bytes, sha256: await sha256Of(out) });
  }
  return { ...input.message, attachments };
}
