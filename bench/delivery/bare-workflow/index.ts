// The smallest workflow of a delivery's shape: one workflow task that runs one local activity and completes.
import { proxyLocalActivities } from '@temporalio/workflow';

const { touch } = proxyLocalActivities<{ touch(sentAt: number): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

export async function bareDelivery(sentAt: number): Promise<void> {
  await touch(sentAt);
}
