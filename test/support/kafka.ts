// A real single-node Apache Kafka broker (KRaft) on loopback for the tests that need one; stoppable mid-test for outages.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { readToolsEnv } from '../../src/temporal/cli-path';
import { findFreePort } from '../../src/temporal/dev-server';
import { makeTempDir, type TempDir } from './temp';

/** The jars scripts/ensure-tools fetched ($KAFKA_JARS, else tools.env), or null. */
export function kafkaJarsDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = env.KAFKA_JARS || readToolsEnv(env).KAFKA_JARS;
  return dir && existsSync(join(dir, '.complete')) ? dir : null;
}

/** Why the Kafka tests cannot run here, or undefined when they can. Checked before any test starts. */
export function kafkaUnavailableReason(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.REFDATA_SKIP_KAFKA === '1') return 'REFDATA_SKIP_KAFKA=1';
  if (!kafkaJarsDir(env)) return 'no Kafka jars: run scripts/ensure-tools --for test (fetches org.apache.kafka:kafka_2.13 with Maven)';
  return undefined;
}

export interface KafkaBroker {
  /** `127.0.0.1:<port>`, the same across stop() and start(). */
  bootstrap: string;
  /** Stops the broker (its data stays): an outage. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, resolving once it answers. */
  start(): Promise<void>;
  readonly running: boolean;
  /** The broker's log so far, for a failing test's message. */
  log(): string;
  /** Stops it and removes its data. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

/** A Kafka cluster id: 16 random bytes, base64url (what `kafka-storage random-uuid` prints); never starting with '-'. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function serverProperties(dir: string, port: number, controllerPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    // A static voter set: with controller.quorum.voters the format command takes no --standalone.
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

function javaArgs(jars: string, main: string, args: string[]): string[] {
  // A small heap: the test machine has two cores and runs other servers beside it.
  return ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-Djava.awt.headless=true', '-cp', `${jars}/*`, main, ...args];
}

async function runToEnd(jars: string, main: string, args: string[], logFile: string): Promise<void> {
  const out = await open(logFile, 'a');
  try {
    const child = spawn('java', javaArgs(jars, main, args), { stdio: ['ignore', out.fd, out.fd] });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`${main} ${args[0] ?? ''} exited with ${code}; log: ${logFile}\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
  } finally {
    await out.close();
  }
}

/** Resolves once the broker serves metadata to a kafkajs admin client. */
async function waitUntilAnswering(bootstrap: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const kafka = new Kafka({ clientId: 'refdata-test-probe', brokers: [bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Kafka broker exited with ${child.exitCode} before answering; log: ${logFile}\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0 && cluster.controller !== null) return;
    } catch {
      // not up yet
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline) throw new Error(`the Kafka broker did not answer on ${bootstrap} within ${READY_TIMEOUT_MS / 1000} s; log: ${logFile}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function startKafkaBroker(): Promise<KafkaBroker> {
  const jars = kafkaJarsDir();
  if (!jars) throw new Error(kafkaUnavailableReason() ?? 'no Kafka jars');
  const dir: TempDir = await makeTempDir('refdata-kafka-');
  const logFile = join(dir.path, 'broker.log');
  const port = await findFreePort();
  let controllerPort = await findFreePort();
  while (controllerPort === port) controllerPort = await findFreePort();
  const props = join(dir.path, 'server.properties');
  const bootstrap = `127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);

  async function start(): Promise<void> {
    if (child) return;
    const out = await open(logFile, 'a');
    const started = spawn('java', javaArgs(jars!, 'kafka.Kafka', [props]), { stdio: ['ignore', out.fd, out.fd] });
    await out.close();
    child = started;
    started.once('exit', () => {
      if (child === started) child = null;
    });
    try {
      await waitUntilAnswering(bootstrap, started, logFile);
    } catch (err) {
      started.kill('SIGKILL');
      throw err;
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    child = null;
  }

  try {
    await writeFile(props, serverProperties(dir.path, port, controllerPort));
    await runToEnd(jars, 'kafka.tools.StorageTool', ['format', '-t', clusterId(), '-c', props], logFile);
    await start();
  } catch (err) {
    await stop();
    process.removeListener('exit', killOnExit);
    await dir.cleanup();
    throw err;
  }

  return {
    bootstrap,
    start,
    stop,
    get running() {
      return child !== null;
    },
    log: () => readFileSync(logFile, 'utf8'),
    async close() {
      await stop();
      process.removeListener('exit', killOnExit);
      await dir.cleanup();
    },
  };
}
