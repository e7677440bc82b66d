// docs/configuration.md from src/config.ts: the same table as `refdata config docs` and the README, with how to set it. Pure.
import { configTableMarkdown } from '../config';
import { generatedNotice } from './notice';

export function renderConfiguration(): string {
  return [
    '# Configuration reference',
    '',
    generatedNotice('refdata docs config', '`settingDocs` in `src/config.ts` (the same table as `refdata config docs` and the README)'),
    '',
    'Every setting is an environment variable, read and validated once at start (`src/config.ts`); an invalid value',
    'stops the process with every problem named (exit code 2). Empty values count as unset. `refdata config check`',
    'prints the effective configuration; `refdata doctor` checks the database, Temporal and the folders with it.',
    'Every process (API, worker, watcher) reads the same variables: give them the same environment. Deployment',
    'settings are explained in [deployment](deployment.md), the tuning knobs in [performance tuning](performance-tuning.md).',
    '',
    configTableMarkdown(),
    '',
  ].join('\n');
}
