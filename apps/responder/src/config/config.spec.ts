import { ConfigError, loadConfig, redactUrl } from './config';

describe('loadConfig', () => {
  it('runs on its embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      redis: { url: 'redis://127.0.0.1:6379', prefix: 'responder' },
      catalog: { path: 'runbooks/service-catalog.yaml', explicit: false },
      runbooksDir: 'runbooks',
      mode: 'live',
    });
    expect(config.ingestApiKey).toBeUndefined();
    expect(config.sqs).toBeUndefined();
    expect(config.slack).toBeUndefined();
  });

  it('names a malformed variable in one line', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(new ConfigError('invalid configuration: PORT must be a number'));
    expect(() => loadConfig({ RESPONDER_MODE: 'yolo' })).toThrow(/^invalid configuration: RESPONDER_MODE must be live or dry-run$/);
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL must be a URL such as redis:\/\//);
  });

  it('takes OIDC with issuer, audience and JWKS URL together, and names what is missing', () => {
    const oidc = { OIDC_ISSUER: 'https://idp.example.com/', OIDC_AUDIENCE: 'responder', OIDC_JWKS_URL: 'https://idp.example.com/jwks.json' };
    expect(loadConfig(oidc).oidc).toEqual({ issuer: 'https://idp.example.com/', audience: 'responder', jwksUrl: 'https://idp.example.com/jwks.json', userClaim: 'email' });
    expect(loadConfig({ ...oidc, OIDC_USER_CLAIM: 'preferred_username' }).oidc?.userClaim).toBe('preferred_username');
    expect(loadConfig({}).oidc).toBeUndefined();
    expect(() => loadConfig({ OIDC_ISSUER: oidc.OIDC_ISSUER })).toThrow(/OIDC_AUDIENCE is required with OIDC_ISSUER .*OIDC_JWKS_URL is required/);
    expect(() => loadConfig({ ...oidc, OIDC_JWKS_URL: 'idp/jwks' })).toThrow(/OIDC_JWKS_URL must be a URL/);
  });

  it('never prints a secret, even a malformed one', () => {
    const leaked = 'short-secret';
    for (const name of ['INGEST_API_KEY', 'API_TOKEN', 'SLACK_SIGNING_SECRET']) {
      const env = { [name]: leaked, SLACK_BOT_TOKEN: 'xoxb-1-2-3' };
      let message = '';
      try {
        loadConfig(env);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toContain(`${name} must be at least 16 characters`);
      expect(message).not.toContain(leaked);
      expect(message.split('\n')).toHaveLength(1);
    }
    try {
      loadConfig({ SLACK_BOT_TOKEN: 'not-a-bot-token-secret-value' });
    } catch (e) {
      expect((e as Error).message).not.toContain('not-a-bot-token-secret-value');
    }
  });

  it('requires a variable only when its feature is on', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-3' })).toThrow(/SLACK_SIGNING_SECRET is required when SLACK_BOT_TOKEN is set/);
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_APP_TOKEN: 'xapp-1-2' }).slack).toMatchObject({ appToken: 'xapp-1-2' });
    expect(() => loadConfig({ SLACK_APP_TOKEN: 'xapp-1-2' })).toThrow(/SLACK_BOT_TOKEN is required/);
    expect(loadConfig({ SQS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' }).sqs).toEqual({
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
      waitSeconds: 20,
    });
  });

  it('keeps resolved incidents 90 days unless INCIDENT_RETENTION_DAYS says otherwise (at least 1)', () => {
    expect(loadConfig({}).incidentRetentionDays).toBe(90);
    expect(loadConfig({ INCIDENT_RETENTION_DAYS: '30' }).incidentRetentionDays).toBe(30);
    expect(() => loadConfig({ INCIDENT_RETENTION_DAYS: '0' })).toThrow(new ConfigError('invalid configuration: INCIDENT_RETENTION_DAYS must be at least 1'));
    expect(() => loadConfig({ INCIDENT_RETENTION_DAYS: '1.5' })).toThrow(/^invalid configuration: INCIDENT_RETENTION_DAYS must be a whole number$/);
  });

  it('times Redis commands out after 500 ms and sweeps for unplanned incidents every 30 s, unless told otherwise', () => {
    expect(loadConfig({}).redis.commandTimeoutMs).toBe(500);
    expect(loadConfig({}).engine.planSweepMs).toBe(30_000);
    expect(loadConfig({ REDIS_COMMAND_TIMEOUT_MS: '2000', ENGINE_PLAN_SWEEP_SECONDS: '5' })).toMatchObject({ redis: { commandTimeoutMs: 2000 }, engine: { planSweepMs: 5000 } });
    expect(() => loadConfig({ REDIS_COMMAND_TIMEOUT_MS: '10' })).toThrow(new ConfigError('invalid configuration: REDIS_COMMAND_TIMEOUT_MS must be at least 50'));
    expect(() => loadConfig({ ENGINE_PLAN_SWEEP_SECONDS: '0' })).toThrow(new ConfigError('invalid configuration: ENGINE_PLAN_SWEEP_SECONDS must be at least 1'));
  });

  it('takes alarms from any account unless ALARM_ACCOUNTS lists 12-digit ids', () => {
    expect(loadConfig({}).alarmAccounts).toBeUndefined();
    expect(loadConfig({ ALARM_ACCOUNTS: '123456789012, 210987654321' }).alarmAccounts).toEqual(['123456789012', '210987654321']);
    expect(() => loadConfig({ ALARM_ACCOUNTS: '1234,abc' })).toThrow(/^invalid configuration: ALARM_ACCOUNTS must be 12-digit AWS account ids separated by commas$/);
  });

  it('runs as all unless RESPONDER_ROLE says api or worker', () => {
    expect(loadConfig({}).role).toBe('all');
    expect(loadConfig({ RESPONDER_ROLE: 'worker' }).role).toBe('worker');
    expect(() => loadConfig({ RESPONDER_ROLE: 'both' })).toThrow(/^invalid configuration: RESPONDER_ROLE must be one of all, api, worker$/);
  });

  it('serves every Slack workspace unless SLACK_TEAM_ID names one (a T… id)', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_APP_TOKEN: 'xapp-1-2' };
    expect(loadConfig(slack).slack?.teamId).toBeUndefined();
    expect(loadConfig({ ...slack, SLACK_TEAM_ID: 'T0123ABCD' }).slack?.teamId).toBe('T0123ABCD');
    expect(() => loadConfig({ ...slack, SLACK_TEAM_ID: 'my-workspace' })).toThrow(/SLACK_TEAM_ID must be a Slack workspace \(team\) id such as T0123ABCD/);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ INGEST_API_KEY: '', PORT: '' }).port).toBe(3000);
  });

  it('reads the catalog path from SERVICE_CATALOG or under RUNBOOKS_DIR', () => {
    expect(loadConfig({ SERVICE_CATALOG: '/etc/responder/catalog.yaml' }).catalog).toEqual({ path: '/etc/responder/catalog.yaml', explicit: true });
    expect(loadConfig({ RUNBOOKS_DIR: '/srv/runbooks/' }).catalog.path).toBe('/srv/runbooks/service-catalog.yaml');
  });
});

describe('redactUrl', () => {
  it('hides a Redis password', () => {
    expect(redactUrl('redis://:hunter2hunter2@cache:6379/0')).toBe('redis://:***@cache:6379/0');
  });
});
