// What a worker gives the delivery activities: channels (dashboard notifications stored in the database), keys, feeds.
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import { createChannelRegistry, type ChannelRegistry } from '../channels';
import type { Database } from '../db/types';
import type { EventPublisher } from '../events/types';
import type { Logger } from '../log/logger';
import type { Notifier } from '../notify/notifier';
import { ensureChannelProbe } from './channels';
import type { DeliveryActivityDeps } from '../../activities/delivery';
import { deliveredTopic } from './event';
import type { DeliveryNotifier } from './notifier';
import { secretsKeyFrom, type SecretsKey } from './sealed-config';
import { downloadLinkSettings } from './download-links';

/** Optional pieces a process passes in; everything missing gets a default that suits tests of other flows. */
export interface DeliveryWiring {
  events?: EventPublisher;
  /** Shared with the API in one process (`refdata dev`), so its WebSocket stream hears changes at once. */
  feed?: DeliveryNotifier;
  secretsKey?: SecretsKey | null;
  /** Tests replace the real channels with a scripted sender. */
  channels?: Pick<ChannelRegistry, 'send'>;
  trustedCa?: string[];
}

export function deliveryActivityDeps(
  base: { db: Database; log: Logger; config: Partial<Pick<Config, 'reporting' | 'events' | 'stateDir'>>; client?: Client; notifier?: Notifier },
  wiring: DeliveryWiring,
  fallbackEvents: EventPublisher,
): DeliveryActivityDeps {
  const reporting = base.config.reporting;
  const template = base.config.events?.topics.deliveredTemplate;
  const secretsKey = wiring.secretsKey !== undefined ? wiring.secretsKey : reporting?.secretsKey ? secretsKeyFrom(reporting.secretsKey) : null;
  return {
    db: base.db,
    log: base.log.child({ component: 'delivery' }),
    channels: wiring.channels ?? createChannelRegistry({ notificationSink: { publish: async (n) => void (await base.db.distribution.upsertNotification(n)) } }),
    secretsKey,
    downloadLinks: reporting ? downloadLinkSettings(secretsKey, reporting.publicUrl, reporting.downloadLinkTtlMs) : null,
    emailAttachMaxBytes: reporting?.emailAttachMaxBytes,
    allowPrivateNetworks: reporting?.allowPrivateDestinations ?? false,
    events: wiring.events ?? fallbackEvents,
    notifier: wiring.feed,
    topicFor: (reportType) => deliveredTopic(reportType, template),
    trustedCa: wiring.trustedCa,
    channelHealth: reporting?.channelHealth,
    alerts: base.notifier,
    encryptedDir: base.config.stateDir ? path.join(base.config.stateDir, 'encrypted') : undefined,
    convertedDir: base.config.stateDir ? path.join(base.config.stateDir, 'converted') : undefined,
    ensureProbe: base.client ? (channelId, firstProbeInMs) => ensureChannelProbe(base.client!, channelId, firstProbeInMs) : undefined,
  };
}
