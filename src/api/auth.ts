// API keys: admin routes take the key as `Authorization: Bearer …`; compared in constant time.
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export function bearerToken(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m ? m[1].trim() : null;
}

function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/** A preHandler that lets only the admin key through. */
export function requireAdmin(adminKey: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req);
    if (!adminKey) {
      return reply.code(503).send({ error: { code: 'NO_ADMIN_KEY', message: 'no admin key is configured; set REFDATA_ADMIN_KEY' } });
    }
    if (!token) return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'send the admin key as Authorization: Bearer <key>' } });
    if (!sameSecret(token, adminKey)) return reply.code(403).send({ error: { code: 'FORBIDDEN', message: 'this key may not do that' } });
  };
}

export function generateKey(): string {
  return `rdk_${crypto.randomBytes(24).toString('base64url')}`;
}
