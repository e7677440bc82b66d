// `refdata keys create|list|revoke`: API keys with roles; a key is printed once and stored only as its SHA-256.
import { Command, Option } from 'commander';
import { baseServices, openDb } from '../runtime';
import { createApiKey } from '../reporting/api-keys';
import { apiRoles, type ApiRole } from '../reporting/types';

export function keysCommand(): Command {
  const cmd = new Command('keys').description('API keys with roles (admin, operator, subscriber, read-only)');
  cmd
    .command('create')
    .description('create a key and print it once (only its SHA-256 is kept)')
    .addOption(new Option('--role <role>', 'what the key may do').choices([...apiRoles]).makeOptionMandatory())
    .option('--subscriber <id>', 'for --role subscriber: the one subscriber it sees')
    .option('--label <text>', 'a note for `keys list`, e.g. who holds it')
    .action(async (opts: { role: ApiRole; subscriber?: string; label?: string }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const { key, record } = await createApiKey(db.distribution, { role: opts.role, subscriberId: opts.subscriber ?? null, label: opts.label ?? null });
        process.stderr.write(`created ${record.keyId} (${record.role}${record.subscriberId ? ` for ${record.subscriberId}` : ''}); the key is shown only now:\n`);
        process.stdout.write(`${key}\n`);
      } finally {
        await db.close();
      }
    });
  cmd
    .command('list')
    .description('every key: id, role, subscriber, created, revoked (never the key itself)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        const keys = await db.distribution.listApiKeys();
        if (opts.json) process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
        else {
          for (const k of keys) {
            const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'live';
            process.stdout.write(`${k.keyId}  ${k.role.padEnd(10)} ${(k.subscriberId ?? '-').padEnd(24)} ${k.createdAt.toISOString()}  ${state}${k.label ? `  ${k.label}` : ''}\n`);
          }
        }
      } finally {
        await db.close();
      }
    });
  cmd
    .command('revoke')
    .description('revoke a key by its id (from `keys list`); requests with it get 401 at once')
    .argument('<keyId>')
    .action(async (keyId: string) => {
      const { config, log } = baseServices();
      const db = await openDb(config, log);
      try {
        if (!(await db.distribution.revokeApiKey(keyId))) throw new Error(`no live key ${keyId}; see refdata keys list`);
        process.stdout.write(`revoked ${keyId}\n`);
      } finally {
        await db.close();
      }
    });
  return cmd;
}
