// Health of the host and the workers: free space of the folders refdata writes (drop, archive, state), this
// process's memory, and whether each task queue has a worker polling it (Temporal's DescribeTaskQueue). Read by
// /health, `refdata doctor` and the threshold evaluator, which keeps the gauges and raises the alerts.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowService } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { HostThresholds } from '../config';
import { archiveFolders, dataKinds, loadModes } from '../drop-folders';
import { diskFreeBytes, diskSizeBytes, taskQueuePollers } from './registry';
import type { AlertStatus } from './thresholds';

/**
 * A poller counts as live when it polled this recently. An idle worker's long poll lasts about a minute before it
 * polls again, and the server keeps a stopped worker in the list for minutes, so the window sits between the two.
 */
export const POLLER_LIVE_MS = 2 * 60_000;
/** A frontend that does not answer must not hold up /health or the alert loop. */
const DESCRIBE_TIMEOUT_MS = 5_000;
const MiB = 1024 * 1024;

export interface DiskSpace {
  /** drop, archive or state. */
  folder: string;
  path: string;
  freeBytes?: number;
  sizeBytes?: number;
  error?: string;
}

export interface MemoryUse {
  rssBytes: number;
  heapUsedBytes: number;
  hostFreeBytes: number;
  hostTotalBytes: number;
}

export interface TaskQueuePollers {
  taskQueue: string;
  /** Distinct workers (identities) that polled the queue for workflow or activity tasks within POLLER_LIVE_MS. */
  pollers: number;
  workflowPollers: number;
  activityPollers: number;
  /** The newest poll, ISO time. */
  lastPollAt?: string;
  error?: string;
}

export interface HostSnapshot {
  disk: DiskSpace[];
  memory: MemoryUse;
  taskQueues: TaskQueuePollers[];
}

export interface HostProbeDeps {
  dropRoot: string;
  stateDir: string;
  /** Task queues to describe; none: pollers are not read. */
  taskQueues: string[];
  temporal?: { workflowService: WorkflowService; namespace: string };
  now?: () => number;
}

/** Reads disk, memory and pollers now; a folder or queue that cannot be read carries its error, the rest still answer. */
export async function readHost(deps: HostProbeDeps): Promise<HostSnapshot> {
  const now = deps.now ?? Date.now;
  const [disk, taskQueues] = await Promise.all([
    Promise.all([diskOf('drop', deps.dropRoot), archiveDiskOf(deps.dropRoot), diskOf('state', deps.stateDir)]),
    deps.temporal ? Promise.all(deps.taskQueues.map((q) => pollersOf(deps.temporal!, q, now()))) : Promise.resolve([]),
  ]);
  const m = process.memoryUsage();
  return { disk, memory: { rssBytes: m.rss, heapUsedBytes: m.heapUsed, hostFreeBytes: os.freemem(), hostTotalBytes: os.totalmem() }, taskQueues };
}

async function diskOf(folder: string, dir: string): Promise<DiskSpace> {
  // A folder not made yet (the state folder before the first start) will be made on its nearest existing parent's disk.
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    try {
      // bavail: what an unprivileged process may still write (bfree includes the blocks reserved for root).
      const s = await fs.statfs(at);
      return { folder, path: dir, freeBytes: s.bavail * s.bsize, sizeBytes: s.blocks * s.bsize };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || at === path.dirname(at)) return { folder, path: dir, error: code ?? (err as Error).message };
    }
  }
}

/** The archive folders (processed/, error/) may be mounts of their own: the one with the least free space speaks for all. */
async function archiveDiskOf(dropRoot: string): Promise<DiskSpace> {
  const dirs = dataKinds.flatMap((k) => loadModes.flatMap((m) => archiveFolders.map((a) => path.join(dropRoot, k, m, a))));
  const all = await Promise.all(dirs.map((d) => diskOf('archive', d)));
  const read = all.filter((d) => d.freeBytes !== undefined).sort((a, b) => a.freeBytes! - b.freeBytes!);
  return read[0] ?? all[0]!;
}

async function pollersOf(t: NonNullable<HostProbeDeps['temporal']>, taskQueue: string, now: number): Promise<TaskQueuePollers> {
  const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;
  try {
    const [wf, act] = await withTimeout(Promise.all([TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY].map((taskQueueType) =>
      t.workflowService.describeTaskQueue({ namespace: t.namespace, taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL }, taskQueueType }),
    )), DESCRIBE_TIMEOUT_MS);
    const live = (pollers: temporal.api.taskqueue.v1.IPollerInfo[] | null | undefined) =>
      (pollers ?? []).filter((p) => now - (optionalTsToMs(p.lastAccessTime) ?? 0) <= POLLER_LIVE_MS);
    const liveWf = live(wf!.pollers);
    const liveAct = live(act!.pollers);
    const newest = Math.max(0, ...[...liveWf, ...liveAct].map((p) => optionalTsToMs(p.lastAccessTime) ?? 0));
    return {
      taskQueue,
      pollers: new Set([...liveWf, ...liveAct].map((p) => p.identity ?? '')).size,
      workflowPollers: liveWf.length,
      activityPollers: liveAct.length,
      ...(newest ? { lastPollAt: new Date(newest).toISOString() } : {}),
    };
  } catch (err) {
    return { taskQueue, pollers: 0, workflowPollers: 0, activityPollers: 0, error: (err as Error).message.split('\n')[0] };
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Temporal gave no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps refdata_disk_free_bytes, refdata_disk_size_bytes and refdata_task_queue_pollers current. */
export function recordHostMetrics(s: HostSnapshot): void {
  for (const d of s.disk) {
    if (d.freeBytes === undefined || d.sizeBytes === undefined) continue;
    diskFreeBytes.set({ folder: d.folder }, d.freeBytes);
    diskSizeBytes.set({ folder: d.folder }, d.sizeBytes);
  }
  for (const q of s.taskQueues) if (!q.error) taskQueuePollers.set({ task_queue: q.taskQueue }, q.pollers);
}

const mib = (bytes: number) => `${Math.floor(bytes / MiB).toLocaleString('en-US')} MiB`;

/** One alert per watched folder, one for memory, one for all queues without a poller. Pure. */
export function hostAlerts(s: HostSnapshot, t: HostThresholds): AlertStatus[] {
  const out: AlertStatus[] = [];
  for (const d of s.disk) {
    if (t.diskFreeMinMb <= 0 || d.freeBytes === undefined) continue;
    const firing = d.freeBytes < t.diskFreeMinMb * MiB;
    out.push({
      alert: `disk_free_${d.folder}`, firing, instance: d.path, severity: 'critical',
      title: `${mib(d.freeBytes)} free for the ${d.folder} folder`,
      message: firing
        ? `the file system of ${d.path} has ${mib(d.freeBytes)} free of ${mib(d.sizeBytes ?? 0)} (threshold ${t.diskFreeMinMb} MiB): loads, archives and distribution files fail when it is full. Free space or grow the volume; the cleanup schedule removes old archives (REFDATA_ARCHIVE_RETENTION_DAYS).`
        : `${mib(d.freeBytes)} free`,
      refs: { folder: d.folder, path: d.path },
    });
  }
  if (t.memoryRssMaxMb > 0) {
    const firing = s.memory.rssBytes > t.memoryRssMaxMb * MiB;
    out.push({
      alert: 'memory_rss', firing, instance: 'process', severity: 'warning',
      title: `API process holds ${mib(s.memory.rssBytes)}`,
      message: firing
        ? `resident memory ${mib(s.memory.rssBytes)} (heap ${mib(s.memory.heapUsedBytes)}) is over ${t.memoryRssMaxMb} MiB; the host has ${mib(s.memory.hostFreeBytes)} free. Check open streams and running loads, then restart the process if it keeps growing.`
        : `resident memory ${mib(s.memory.rssBytes)}`,
      refs: { rssBytes: String(s.memory.rssBytes) },
    });
  }
  const watched = s.taskQueues.filter((q) => t.taskQueues.includes(q.taskQueue));
  // A queue that could not be described (Temporal down) says nothing about its workers: the Temporal check reports that.
  if (watched.length && !watched.some((q) => q.error)) {
    const idle = watched.filter((q) => q.pollers === 0).map((q) => q.taskQueue).sort();
    out.push({
      alert: 'task_queue_pollers', firing: idle.length > 0, instance: idle.join(','), severity: 'critical',
      title: idle.length ? `No worker polls task queue ${idle.join(', ')}` : 'Every task queue has a worker',
      message: idle.length
        ? `no worker has polled ${idle.join(', ')} in the last ${POLLER_LIVE_MS / 60_000} min: runs on ${idle.length > 1 ? 'them' : 'it'} wait without progress. Start \`refdata worker\` (or \`refdata worker --queues ${idle.join(',')}\`), or list only the queues you run in REFDATA_ALERT_TASK_QUEUES.`
        : `${watched.length} task queues polled`,
      refs: { taskQueues: idle.join(',') },
    });
  }
  return out;
}
