import type { INestApplication } from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';
import type { MetricsService } from '../metrics/metrics.service';

/** EventBridge's limit for one event; a larger body cannot be a real delivery. */
export const MAX_EVENT_BYTES = 256 * 1024;

/** What the intake accepts: JSON (EventBridge's API destinations send application/json; charset=utf-8). */
export const JSON_TYPES = ['application/json', 'application/*+json'];

/**
 * Body parsing, set up before Nest's routes. Only JSON bodies are parsed (the intake answers 415 to
 * anything else, after its key check); parse failures become a JSON 400 and oversized bodies a 413,
 * never a 500.
 */
export function configureBodyParsing(app: INestApplication, metrics: MetricsService): void {
  app.use('/events', json({ limit: MAX_EVENT_BYTES, type: JSON_TYPES, strict: false }));
  app.use(json({ limit: MAX_EVENT_BYTES }));
  app.use((err: BodyParserError, req: Request, res: Response, next: NextFunction) => {
    if (!err || typeof err.type !== 'string') return next(err);
    const intake = req.path.startsWith('/events');
    if (err.type === 'entity.too.large') {
      if (intake) metrics.eventsRejected.inc({ source: 'http', reason: 'too_large' });
      res.status(413).json({ statusCode: 413, error: 'Payload Too Large', message: `body over ${MAX_EVENT_BYTES} bytes (the EventBridge event limit is 256 KB)` });
      return;
    }
    if (err.type === 'entity.parse.failed') {
      if (intake) metrics.eventsRejected.inc({ source: 'http', reason: 'malformed_json' });
      res.status(400).json({ statusCode: 400, error: 'Bad Request', message: `body is not valid JSON: ${err.message}` });
      return;
    }
    res.status(err.status ?? 400).json({ statusCode: err.status ?? 400, error: 'Bad Request', message: err.message });
  });
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}
