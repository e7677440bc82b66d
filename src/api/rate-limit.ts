// Whose bucket a request counts against: the id of the key it carries, or its client address without a valid key.
import type { FastifyRequest } from 'fastify';
import { resolveCaller } from '../reporting/api-keys';
import { bearerToken, type RoleAuth } from './auth';

declare module 'fastify' {
  interface FastifyRequest {
    rateLimitKey?: string;
  }
}

/**
 * By key id, not by token text: a made-up token must not earn a fresh bucket, so an unknown one counts against the
 * address like a request without a key.
 */
export async function rateLimitKey(req: FastifyRequest, auth: RoleAuth): Promise<string> {
  const token = bearerToken(req);
  if (!token) return `ip:${req.ip}`;
  try {
    const caller = await resolveCaller(auth.keys, auth.adminKey, token);
    return caller ? `key:${caller.keyId}` : `ip:${req.ip}`;
  } catch {
    // The key store is down: count by address rather than fail a request (/health must still say "down").
    return `ip:${req.ip}`;
  }
}
