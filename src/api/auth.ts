// API keys: admin routes take the key as `Authorization: Bearer …`; compared in constant time. Stored keys carry a role.
import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DistributionStore } from '../db/distribution';
import { resolveCaller } from '../reporting/api-keys';
import type { ApiRole, Caller } from '../reporting/types';

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

/** The roles a preHandler lets through, for the API reference (`x-roles` on each operation of the OpenAPI document). */
const rolesKey = Symbol('refdata.roles');
type RoleGate<F> = F & { [rolesKey]?: readonly string[] };

function gate<F extends object>(handler: F, roles: readonly string[]): RoleGate<F> {
  return Object.assign(handler, { [rolesKey]: roles });
}

/** The roles a route's preHandler(s) admit; null for a route without a key check. */
export function rolesOfPreHandler(preHandler: unknown): readonly string[] | null {
  const handlers = Array.isArray(preHandler) ? preHandler : preHandler ? [preHandler] : [];
  for (const h of handlers) {
    const roles = (h as RoleGate<object>)[rolesKey];
    if (roles) return roles;
  }
  return null;
}

/** Who reads the operations side (files, loads, tables, instruments, metrics, the API document) by default. */
export const readRoles = ['admin', 'operator', 'read-only'] as const satisfies readonly ApiRole[];

/**
 * How a route without a requireRole preHandler is owned, in its `config.access`: `public` (the dashboard's static
 * shell, /health's up/down), `socket` (a WebSocket that takes its key in-band, src/api/socket-auth.ts) or `signed`
 * (no key, but a signature the API issued: a download link, src/api/downloads.ts). A route with
 * neither gets readRoles when it is a GET, and refuses to register otherwise (src/api/server.ts).
 */
export type RouteAccess = 'public' | 'socket' | 'signed';

export function accessOf(config: unknown): RouteAccess | null {
  const access = (config as { access?: unknown } | undefined)?.access;
  return access === 'public' || access === 'socket' || access === 'signed' ? access : null;
}

/** A preHandler that lets only the admin key through. */
export function requireAdmin(adminKey: string | undefined) {
  return gate(async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req);
    if (!adminKey) {
      return reply.code(503).send({ error: { code: 'NO_ADMIN_KEY', message: 'no admin key is configured; set REFDATA_ADMIN_KEY' } });
    }
    if (!token) return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'send the admin key as Authorization: Bearer <key>' } });
    if (!sameSecret(token, adminKey)) return reply.code(403).send({ error: { code: 'FORBIDDEN', message: 'this key may not do that' } });
  }, ['admin (REFDATA_ADMIN_KEY)']);
}

export function generateKey(): string {
  return `rdk_${crypto.randomBytes(24).toString('base64url')}`;
}

/** Who a request's key belongs to, set by requireRole for the handlers after it. */
declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
}

export interface RoleAuth {
  /** The bootstrap REFDATA_ADMIN_KEY: always an admin, even before any key is stored. */
  adminKey?: string;
  keys: Pick<DistributionStore, 'findApiKeyByHash'>;
}

/**
 * A preHandler that resolves the bearer key (bootstrap admin key, or a stored key by its SHA-256) to a role and,
 * for subscriber keys, a subscriber id; lets `roles` through and sets `req.caller`.
 */
export function requireRole(auth: RoleAuth, roles: readonly ApiRole[]) {
  return gate(async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearerToken(req);
    if (!token) return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'send an API key as Authorization: Bearer <key>' } });
    const caller = await resolveCaller(auth.keys, auth.adminKey, token);
    if (!caller) return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'unknown or revoked API key' } });
    if (!roles.includes(caller.role)) {
      return reply.code(403).send({ error: { code: 'FORBIDDEN', message: `a ${caller.role} key may not do that (needs ${roles.join(' or ')})` } });
    }
    req.caller = caller;
  }, roles);
}

/** The caller requireRole set; a route without it is a programming error, not a client's. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new Error(`route ${req.routeOptions.url ?? req.url} has no requireRole preHandler`);
  return req.caller;
}
