// REFDATA_ALERT_CHANNEL and friends: what is accepted, what is refused (naming the variable, never the password).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { alertMessage, meetsSeverity, parseAlertChannel } from '../../src/notify/alert-channel';
import { storedIdOf } from '../../src/notify/keeper';

const base = { minSeverity: 'warning' as const };

describe('the alert channel setting', () => {
  it('is off when unset', () => {
    expect(parseAlertChannel(base)).toEqual({ settings: null, problems: [] });
    expect(loadConfig({}).alerts.outbound).toBeNull();
  });

  it('reads a Slack incoming webhook', () => {
    const { settings } = parseAlertChannel({ ...base, channel: 'slack:https://hooks.slack.com/services/T0/B0/xyz' });
    expect(settings?.destination).toEqual({ channel: 'SLACK_INTEGRATION', config: { webhookUrl: 'https://hooks.slack.com/services/T0/B0/xyz' } });
  });

  it('reads email recipients with the SMTP URL (user, password, port, security) and sender', () => {
    const { settings } = parseAlertChannel({ ...base, channel: 'email:ops@firm.example, oncall@firm.example', smtpUrl: 'smtps://alerts:p%40ss@mail.firm.example', from: 'refdata@firm.example' });
    expect(settings?.destination).toMatchObject({
      channel: 'EMAIL',
      config: { host: 'mail.firm.example', port: 465, security: 'tls', auth: { user: 'alerts', pass: 'p@ss' }, from: 'refdata@firm.example', to: ['ops@firm.example', 'oncall@firm.example'] },
    });
    expect(parseAlertChannel({ ...base, channel: 'email:ops@firm.example', smtpUrl: 'smtp://relay:25?security=none', from: 'r@firm.example' }).settings?.destination.config)
      .toMatchObject({ host: 'relay', port: 25, security: 'none' });
  });

  it.each([
    [{ channel: 'teams:https://x' }, /REFDATA_ALERT_CHANNEL: must be slack:/],
    [{ channel: 'slack:http://hooks.slack.com/services/x' }, /https:\/\/ URL/],
    [{ channel: 'email:ops@firm.example', from: 'r@firm.example' }, /REFDATA_ALERT_SMTP_URL: required/],
    [{ channel: 'email:ops@firm.example', smtpUrl: 'smtp://relay' }, /REFDATA_ALERT_EMAIL_FROM: required/],
    [{ channel: 'email:not-an-address', smtpUrl: 'smtp://relay', from: 'r@firm.example' }, /each email: recipient/],
    [{ channel: 'email:ops@firm.example', smtpUrl: 'smtp://relay?security=maybe', from: 'r@firm.example' }, /security must be/],
  ])('refuses %j', (env, problem) => {
    const { settings, problems } = parseAlertChannel({ ...base, ...env });
    expect(settings).toBeNull();
    expect(problems.join('\n')).toMatch(problem);
  });

  it('stops the process at start, without printing the SMTP password', () => {
    let err: unknown;
    try {
      loadConfig({ REFDATA_ALERT_CHANNEL: 'email:nobody', REFDATA_ALERT_SMTP_URL: 'smtp://u:hunter2-secret@relay', REFDATA_ALERT_EMAIL_FROM: 'r@firm.example' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('REFDATA_ALERT_CHANNEL');
    expect((err as Error).message).not.toContain('hunter2-secret');
  });
});

describe('alerts', () => {
  it('go out at or above the configured severity', () => {
    expect([meetsSeverity({ severity: 'info' }, 'warning'), meetsSeverity({ severity: 'warning' }, 'warning'), meetsSeverity({ severity: 'critical' }, 'warning')]).toEqual([false, true, true]);
  });

  it('become one message whose id is stable, so a resent alert is the same email', () => {
    const n = { id: 'sync.failed:run-1', at: '2025-06-21T06:00:00.000Z', kind: 'sync.failed' as const, severity: 'critical' as const, title: 'Instrument sync failed', message: 'HTTP 503.', refs: { syncRunId: 'run-1' } };
    expect(alertMessage(n)).toMatchObject({ deliveryId: 'alert-sync.failed:run-1', title: 'Instrument sync failed', summary: 'HTTP 503.', metadata: { severity: 'critical', syncRunId: 'run-1' }, attachments: [] });
  });

  it('keep ids the table can key on: long ones shortened with a hash of the whole', () => {
    expect(storedIdOf('short')).toBe('short');
    const long = `config.problems:${'missing ref.table_x,'.repeat(40)}`;
    const a = storedIdOf(long);
    expect(a.length).toBeLessThanOrEqual(400);
    expect(storedIdOf(`${long}y`)).not.toBe(a);
  });
});
