// SLACK_INTEGRATION against a local HTTP receiver that answers as Slack's incoming webhooks do. Slack itself is out of
// reach from the test machine, so the receiver replays Slack's documented answers (status + plain-text error name).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slackConfigSchema, slackMessage, slackSender } from '../../../src/channels/slack';
import { startHttpReceiver, type HttpReceiver } from '../../support/peers/http-receiver';
import { makeTempDir, type TempDir } from '../../support/temp';
import { deliveryMessage, failureOf, instrumentCsv, loopbackContext, writeReportFile } from './fixtures';

let receiver: HttpReceiver;
let dir: TempDir;
beforeAll(async () => {
  receiver = await startHttpReceiver();
  dir = await makeTempDir('refdata-slack-');
});
afterAll(async () => {
  await receiver.close();
  await dir.cleanup();
});

const hookPath = '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
const config = () => slackConfigSchema.parse({ webhookUrl: receiver.url(hookPath) });

interface Posted {
  text: string;
  blocks: { type: string; text?: { text: string }; fields?: { text: string }[]; elements?: { url?: string; text: string | { text: string } }[] }[];
}

describe('SLACK_INTEGRATION', () => {
  it('posts text and blocks naming the report type, id, files and a link to the report', async () => {
    receiver.respondWith(() => ({ status: 200, body: 'ok' }));
    const file = await writeReportFile(dir.path, '20250621_full.csv', instrumentCsv(100), 'https://refdata.example.com/files/20250621_full.csv');
    const msg = deliveryMessage({ reportType: 'RISK_REPORT', attachments: [file], summary: 'VaR <up> & away' });
    const result = await slackSender.send(msg, config(), loopbackContext());

    const req = receiver.requests.at(-1)!;
    expect(req.path).toBe(hookPath);
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    const posted = JSON.parse(req.body.toString('utf8')) as Posted;
    expect(posted.text).toBe(`RISK_REPORT ${msg.reportId}: ${msg.title}`);
    const all = JSON.stringify(posted.blocks);
    expect(posted.blocks[0]).toMatchObject({ type: 'header', text: { text: msg.title } });
    expect(all).toContain('*Report type*\\nRISK_REPORT');
    expect(all).toContain(msg.reportId);
    expect(all).toContain(`<${file.url}|20250621_full.csv>`);
    expect(all).toContain(file.sha256.slice(0, 12));
    expect(all).toContain('VaR &lt;up&gt; &amp; away'); // Slack's control characters escaped
    const actions = posted.blocks.find((b) => b.type === 'actions');
    expect(actions?.elements?.[0].url).toBe(msg.link);
    expect(result.status).toBe('delivered');
    // The webhook path is the credential: it must not reach delivery_history.
    expect(result.detail).not.toContain('/services/');
  });

  it('keeps within Slack\'s block limits for long titles and many metadata fields', () => {
    const metadata = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 'v'.repeat(3000)]));
    const posted = slackMessage(deliveryMessage({ title: 't'.repeat(500), metadata })) as unknown as Posted;
    expect(posted.blocks[0].text!.text.length).toBeLessThanOrEqual(150);
    const fields = posted.blocks[1].fields!;
    expect(fields.length).toBeLessThanOrEqual(10);
    for (const f of fields) expect(f.text.length).toBeLessThanOrEqual(2000);
  });

  // Slack's documented incoming-webhook errors: https://api.slack.com/messaging/webhooks#handling_errors
  const answers: [number, string, Record<string, string>, string, boolean, boolean, number | undefined][] = [
    [404, 'no_service', {}, 'GONE', true, true, undefined],
    [403, 'invalid_token', {}, 'AUTH_FAILED', true, false, undefined],
    [410, 'channel_is_archived', {}, 'GONE', true, true, undefined],
    [404, 'channel_not_found', {}, 'HTTP_4XX', true, false, undefined],
    [403, 'action_prohibited', {}, 'REMOTE_REJECTED', true, false, undefined],
    [400, 'invalid_payload', {}, 'HTTP_4XX', true, false, undefined],
    [429, 'rate_limited', { 'retry-after': '30' }, 'RATE_LIMITED', false, false, 30_000],
    [500, 'rollup_error', {}, 'HTTP_5XX', false, false, undefined],
  ];
  it.each(answers)('HTTP %i %s → %s (permanent %s, disable %s)', async (status, body, headers, code, permanent, disable, retryAfterMs) => {
    receiver.respondWith(() => ({ status, body, headers }));
    const err = await failureOf(slackSender.send(deliveryMessage(), config(), loopbackContext()));
    expect(err).toMatchObject({ code, permanent, disable, status });
    expect(err.retryAfterMs).toBe(retryAfterMs);
    expect(err.message).toContain(body);
  });

  it('refuses a webhook URL on the private network unless allowed', async () => {
    const err = await failureOf(slackSender.send(deliveryMessage(), config(), loopbackContext({ allowPrivateNetworks: false })));
    expect(err).toMatchObject({ code: 'DESTINATION_REFUSED', permanent: true });
  });
});
