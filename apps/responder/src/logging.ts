import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from './config/config';

/** Everything that could carry a secret is censored before a log line is written. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'res.headers["set-cookie"]',
  '*.token',
  '*.apiKey',
  '*.secret',
  '*.password',
  '*.signingSecret',
  '*.botToken',
  '*.appToken',
  '*.*.token',
  '*.*.secret',
  '*.*.password',
];

const QUIET_PATHS = new Set(['/health', '/ready', '/metrics']);

export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  return {
    // The intake logs one structured line per event itself (and the key guard each refusal): a
    // pino-http child logger per request cost 14% of the intake's CPU (bench/intake.bench.ts).
    exclude: [{ method: RequestMethod.POST, path: 'events/eventbridge' }],
    pinoHttp: [
      {
        level: config.logLevel,
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        autoLogging: { ignore: (req) => QUIET_PATHS.has(req.url ?? '') },
        // 4xx are expected traffic (EventBridge retries, bad senders): info, not error.
        customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
        serializers: {
          req: (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => ({
            id: req.id,
            method: req.method,
            url: req.url,
            headers: req.headers,
          }),
        },
      },
      destination as DestinationStream,
    ],
  };
}
