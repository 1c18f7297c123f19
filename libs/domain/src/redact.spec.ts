import { redactDeep, redactSecrets } from './redact';

describe('secrets', () => {
  it('redactSecrets masks tokens, keys and connection-string credentials', () => {
    expect(redactSecrets('a xoxb-1-abc b xoxp-2-def c xapp-1-A1-xyz')).toBe('a [REDACTED] b [REDACTED] c [REDACTED]');
    expect(redactSecrets('key AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A')).toBe('key [REDACTED] and [REDACTED]');
    expect(redactSecrets('aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY')).toBe('aws_secret_access_key=[REDACTED]');
    expect(redactSecrets('password=hunter2&token=abc user=x')).toBe('password=[REDACTED]&token=[REDACTED] user=x');
    expect(redactSecrets('{"password": "hunter2"}')).toBe('{"password": "[REDACTED]"}');
    expect(redactSecrets('Authorization: Bearer eyJ.abc.def')).toBe('Authorization: Bearer [REDACTED]');
    expect(redactSecrets('postgres://app:hunter2@db:5432/app')).toBe('postgres://app:[REDACTED]@db:5432/app');
    expect(redactSecrets('redis://:s3cret@cache:6379')).toBe('redis://:[REDACTED]@cache:6379');
    expect(redactSecrets('mysql://root:toor@db/orders')).toBe('mysql://root:[REDACTED]@db/orders');
    expect(redactSecrets("secret: 'two words'; next")).toBe("secret: '[REDACTED]'; next");
    expect(redactSecrets('call failed, Authorization: Basic dXNlcjpwYXNz')).toBe('call failed, Authorization: Basic [REDACTED]');
    expect(redactSecrets('x-api-key: 1234abcd; retry')).toBe('x-api-key: [REDACTED]; retry');
    expect(redactSecrets('access_key=abcd1234 region=eu')).toBe('access_key=[REDACTED] region=eu');
    expect(redactSecrets('an ordinary reason with no secret')).toBe('an ordinary reason with no secret');
  });

  it('redactDeep masks every string of a JSON-like value and keeps its keys and other values', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    expect(redactDeep({ token: 'xoxb-1-abc', n: 1, list: ['password=hunter2', null], at })).toEqual({ token: '[REDACTED]', n: 1, list: ['password=[REDACTED]', null], at });
  });
});
