// What `npm start` prints once everything is up: where each part answers and where the admin key is, never the key.
import path from 'node:path';

export interface BannerInput {
  apiUrl: string;
  temporalUiUrl: string;
  grpc: string;
  events: string;
  dropFolder: string;
  database: string;
  /** REFDATA_ADMIN_KEY set: the key is in the environment; otherwise it is in `<stateDir>/admin-key`. */
  adminKeyFromEnv: boolean;
  adminKeyGenerated: boolean;
  stateDir: string;
}

/**
 * The key stays out: stdout of a dev run is often captured into shared logs or CI output. The operator reads it from
 * the file (mode 0600) or the variable they set, and the lines show how to use it without printing it.
 */
export function devBanner(b: BannerInput): string {
  const keyFile = path.join(b.stateDir, 'admin-key');
  const keyAt = b.adminKeyFromEnv ? 'REFDATA_ADMIN_KEY (from your environment)' : `${keyFile}${b.adminKeyGenerated ? ' (just generated, mode 0600)' : ''}`;
  const keyShell = b.adminKeyFromEnv ? '$REFDATA_ADMIN_KEY' : `$(cat ${keyFile})`;
  return [
    '',
    'refdata is running',
    `  dashboard        ${b.apiUrl}/   (sign in with the admin key)`,
    `  API              ${b.apiUrl}   (OpenAPI docs: ${b.apiUrl}/docs, health: ${b.apiUrl}/health)`,
    `  admin key        in ${keyAt}`,
    `  try              curl -H "Authorization: Bearer ${keyShell}" ${b.apiUrl}/api/v1/files`,
    `  Temporal Web UI  ${b.temporalUiUrl}`,
    `  gRPC             ${b.grpc}`,
    `  events           ${b.events}`,
    `  drop folder      ${b.dropFolder}`,
    `  database         ${b.database}`,
    '  Ctrl-C stops everything.',
    '',
  ].join('\n');
}
