// Finds the key that seals channel secrets: from config, else the one kept in the state dir, else a new one kept there.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { secretsKeyFrom, type SecretsKey } from './sealed-config';

/**
 * Like the admin key (src/runtime.ts): a laptop gets a key without setting anything, and keeps it across restarts.
 * API and workers on other machines must share REFDATA_SECRETS_KEY; a mismatch fails with both key ids named.
 */
export function ensureSecretsKey(config: Pick<Config, 'stateDir' | 'reporting'>): { key: SecretsKey; generated: boolean; file: string | null } {
  if (config.reporting.secretsKey) return { key: secretsKeyFrom(config.reporting.secretsKey), generated: false, file: null };
  const file = path.join(config.stateDir, 'secrets-key');
  if (fs.existsSync(file)) return { key: secretsKeyFrom(fs.readFileSync(file, 'utf8').trim()), generated: false, file };
  fs.mkdirSync(config.stateDir, { recursive: true });
  const base64 = crypto.randomBytes(32).toString('base64');
  // wx: two processes starting together must not each write their own key; the loser reads the winner's.
  try {
    fs.writeFileSync(file, `${base64}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return { key: secretsKeyFrom(fs.readFileSync(file, 'utf8').trim()), generated: false, file };
  }
  return { key: secretsKeyFrom(base64), generated: true, file };
}
