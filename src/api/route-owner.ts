// Every route has an owner: the roles its preHandler admits, an explicit public or socket access, or (GETs only) the
// read roles by default. A write route without a role is a programming error and stops the API from starting.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { accessOf, readRoles, requireRole, rolesOfPreHandler, type RoleAuth, type RouteAccess } from './auth';
import { ErrorBody } from './schemas';


const isRead = (method: RouteOptions['method']) => (Array.isArray(method) ? method : [method]).every((m) => m === 'GET' || m === 'HEAD');

/** Gives `route` its owner and documents it: `x-roles`, `security`, and the 401/403 answers the key check can give. */
/** One registered route and who may call it, as the server decided (the access-matrix test reads these). */
export interface OwnedRoute {
  method: string;
  url: string;
  /** `key`: the roles' key in the Authorization header; `open`: REFDATA_OPEN_READS let a read through without one. */
  access: RouteAccess | 'key' | 'open';
  roles: readonly string[];
  websocket: boolean;
}

const tables = new WeakMap<object, OwnedRoute[]>();

/** Every route of a server built by buildApi, in registration order. */
export function routeTableOf(app: FastifyInstance): readonly OwnedRoute[] {
  return tables.get(app) ?? [];
}

export function trackRoutes(app: FastifyInstance): OwnedRoute[] {
  const table: OwnedRoute[] = [];
  tables.set(app, table);
  return table;
}

const asArray = (h: unknown): unknown[] => (Array.isArray(h) ? h : h ? [h] : []);

/**
 * Moves the key check to onRequest, before the body is parsed and validated: a request without the right key gets
 * 401/403 whatever it carries, and nothing of it is read first.
 */
function checkKeyFirst(route: RouteOptions): void {
  const handlers = asArray(route.preHandler);
  const gates = handlers.filter((h) => rolesOfPreHandler(h) !== null);
  if (gates.length === 0) return;
  route.preHandler = handlers.filter((h) => rolesOfPreHandler(h) === null) as RouteOptions['preHandler'];
  route.onRequest = [...asArray(route.onRequest), ...gates] as RouteOptions['onRequest'];
}

export function ownRoute(route: RouteOptions, auth: RoleAuth, openReads: boolean, table: OwnedRoute[]): void {
  const owned = decideOwner(route, auth, openReads);
  for (const method of asArray(route.method) as string[]) {
    table.push({ method, url: route.url, ...owned, websocket: (route as { websocket?: boolean }).websocket === true });
  }
}

function decideOwner(route: RouteOptions, auth: RoleAuth, openReads: boolean): Pick<OwnedRoute, 'access' | 'roles'> {
  const schema = route.schema as Record<string, unknown> | undefined;
  // A HEAD route fastify adds for a GET arrives with the GET's options, gate already moved.
  let roles = rolesOfPreHandler(route.preHandler) ?? rolesOfPreHandler(route.onRequest);
  const access = accessOf(route.config);
  if (roles === null && access === null) {
    if (!isRead(route.method)) {
      throw new Error(`route ${String(route.method)} ${route.url} has no owner: give it a requireRole preHandler (src/api/auth.ts)`);
    }
    if (openReads) {
      if (schema) schema['x-roles'] = ['anyone (REFDATA_OPEN_READS)'];
      return { access: 'open', roles: [] };
    }
    route.preHandler = [requireRole(auth, readRoles), ...asArray(route.preHandler)] as RouteOptions['preHandler'];
    roles = readRoles;
  }
  checkKeyFirst(route);
  const owned = { access: access ?? 'key', roles: roles ?? [] } as const;
  if (!schema) return owned;
  // No x-roles: the API reference says "none (open)".
  if (access === 'public') return owned;
  if (access === 'signed') {
    // No key: the route checks a signature the API itself issued (a download link), and answers 403 without one.
    schema['x-roles'] = ['anyone holding a valid signed link'];
    return owned;
  }
  if (access === 'socket') {
    schema['x-roles'] = ['a key sent in the first message or the Authorization header'];
    return owned;
  }
  schema['x-roles'] = [...(roles ?? [])];
  schema.security ??= [{ bearer: [] }];
  const response = schema.response as Record<string, unknown> | undefined;
  if (response) {
    response[401] ??= ErrorBody;
    response[403] ??= ErrorBody;
  }
  return owned;
}
