// Runs cleanup steps once on SIGINT/SIGTERM, in order, so Ctrl-C leaves nothing orphaned.
import type { Logger } from '../log/logger';

export function onShutdown(log: Logger, steps: Array<[string, () => Promise<unknown>]>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) {
        log.warn('second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info({ signal }, 'stopping');
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          log.error({ step: name, err: (err as Error).message }, 'error while stopping');
        }
      }
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
