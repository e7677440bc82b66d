// A refdata worker in its own process, configured from the environment (as `refdata worker` is), so that a test
// can SIGKILL it mid-sync and a benchmark can read its peak memory. Prints "worker ready" once polling.
import { runWorkerProcess } from './worker-main';

runWorkerProcess('worker-process');
