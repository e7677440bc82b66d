// Workflow `channelProbe`: a paused (unhealthy) channel's destination is probed with backoff until it answers or an
// operator resumes the channel; then the deliveries waiting on it are woken. One run per channel (its id is the lock).
import { condition, continueAsNew, defineQuery, defineSignal, proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { ChannelHealthActivities, ProbeOutcome } from '../activities/channel-health';

export interface ChannelProbeInput {
  channelId: string;
  /** Wait before the first probe (the channel has just failed several times in a row). */
  firstProbeInMs: number;
  /** Probes made by earlier runs of this chain (continue-as-new), for the progress query. */
  probesBefore?: number;
}

export interface ChannelProbeResult {
  channelId: string;
  /** recovered: a probe succeeded; healthy: resumed by an operator or a delivery meanwhile; gone: deleted or disabled. */
  outcome: Exclude<ProbeOutcome['state'], 'failing'>;
  probes: number;
  woken: number;
}

export interface ChannelProbeState {
  channelId: string;
  probes: number;
  nextProbeInMs: number;
  lastError: string | null;
}

export const channelProbeProgressQuery = defineQuery<ChannelProbeState>('progress');
/** An operator resumed the channel (or its config changed): probe now instead of at the next backoff step. */
export const probeNowSignal = defineSignal('probeNow');

// A probe is one connection with its own 10 s timeout; retried quickly if the worker or the database hiccups.
const { probeChannel } = proxyActivities<ChannelHealthActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});
const { releaseWaitingDeliveries } = proxyActivities<ChannelHealthActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** A channel down for weeks would grow one long history: start afresh past this many probes. */
const PROBES_PER_RUN = 200;

export async function channelProbe(input: ChannelProbeInput): Promise<ChannelProbeResult> {
  const state: ChannelProbeState = { channelId: input.channelId, probes: input.probesBefore ?? 0, nextProbeInMs: input.firstProbeInMs, lastError: null };
  let probeNow = false;
  setHandler(channelProbeProgressQuery, () => state);
  setHandler(probeNowSignal, () => void (probeNow = true));

  for (let inThisRun = 0; ; inThisRun++) {
    if (inThisRun >= PROBES_PER_RUN) await continueAsNew<typeof channelProbe>({ ...input, firstProbeInMs: state.nextProbeInMs, probesBefore: state.probes });
    setCurrentDetails(`**paused** channel ${input.channelId}: probe #${state.probes + 1} in ${Math.round(state.nextProbeInMs / 1000)} s${state.lastError ? `; last probe: ${state.lastError}` : ''}`);
    await condition(() => probeNow, state.nextProbeInMs);
    probeNow = false;
    const probe = await probeChannel({ channelId: input.channelId });
    state.probes++;
    if (probe.state === 'failing') {
      state.lastError = probe.error;
      state.nextProbeInMs = probe.nextProbeInMs;
      continue;
    }
    const { woken } = await releaseWaitingDeliveries({ channelId: input.channelId });
    setCurrentDetails(`**${probe.state}** channel ${input.channelId} after ${state.probes} probe(s); woke ${woken} waiting deliveries`);
    return { channelId: input.channelId, outcome: probe.state, probes: state.probes, woken };
  }
}
