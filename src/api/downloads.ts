// GET /api/v1/downloads/:delivery_id/:name: a delivered file behind a signed, expiring link (src/reporting/download-links.ts).
// No API key: the signature is the permission. Only files the delivery recorded are served, never a path from the URL.
import fs from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Database } from '../db/types';
import { checkDownloadLink } from '../reporting/download-links';
import { ErrorBody } from './schemas';

export interface DownloadsDeps {
  db: Pick<Database, 'distribution'>;
  /** The download key (downloadKeyFrom(secrets key)); null: this API cannot check a signature, so it serves nothing. */
  key: Buffer | null;
  now?: () => Date;
}

export const downloadsPlugin = (deps: DownloadsDeps): FastifyPluginAsync => async (app) => {
  const now = deps.now ?? (() => new Date());
  app.get('/api/v1/downloads/:delivery_id/:name', {
    config: { access: 'signed' },
    schema: {
      tags: ['reporting'],
      summary: 'Download a file of a delivery through the signed, expiring link an email carried (no API key: the signature is the permission)',
      params: Type.Object({ delivery_id: Type.String({ minLength: 1, maxLength: 100 }), name: Type.String({ minLength: 1, maxLength: 255 }) }),
      querystring: Type.Object({ expires: Type.Optional(Type.String({ maxLength: 20 })), signature: Type.Optional(Type.String({ maxLength: 100 })) }),
      response: {
        200: { description: 'the file as delivered, streamed', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
        403: ErrorBody,
        404: ErrorBody,
        410: ErrorBody,
      },
    },
  }, async (req, reply) => {
    const { delivery_id: deliveryId, name } = req.params as { delivery_id: string; name: string };
    const { expires = '', signature = '' } = req.query as { expires?: string; signature?: string };
    const verdict = deps.key ? checkDownloadLink(deps.key, deliveryId, name, expires, signature, now()) : 'bad-signature';
    if (verdict === 'bad-signature') {
      return reply.code(403).send({ error: { code: 'BAD_SIGNATURE', message: 'this download link is not valid; ask for the file to be sent again' } });
    }
    if (verdict === 'expired') {
      return reply.code(410).send({ error: { code: 'LINK_EXPIRED', message: 'this download link has expired; ask for the delivery to be replayed for a new link' } });
    }
    const delivery = await deps.db.distribution.getDelivery(deliveryId);
    // Only a name the delivery recorded reaches the file system, and only through the path recorded with it.
    const file = delivery?.payload.message.attachments.find((a) => a.fileName === name);
    const st = file ? await fs.promises.stat(file.path).catch(() => null) : null;
    if (!file || !st?.isFile()) {
      return reply.code(404).send({ error: { code: 'NOT_FOUND', message: `${name} of delivery ${deliveryId} is no longer kept (retention removed it); ask for a new delivery` } });
    }
    return reply
      .header('content-type', file.contentType)
      .header('content-length', st.size)
      .header('content-disposition', `attachment; filename="${file.fileName.replace(/["\\]/g, '_')}"`)
      .header('etag', `"${file.sha256}"`)
      .header('cache-control', 'private, no-store')
      .send(fs.createReadStream(file.path));
  });
};
