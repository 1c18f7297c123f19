import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import type { AppConfig } from '../config/config';
import { secretMatches } from '../http/auth';
import { MetricsService } from '../metrics/metrics.service';
import { APP_CONFIG } from '../tokens';

/**
 * The EventBridge connection sends INGEST_API_KEY in `x-api-key` (API-key authorization). Wrong or
 * missing: 401, logged with the reason and never with the key.
 */
@Injectable()
export class IngestApiKeyGuard implements CanActivate {
  private readonly logger = new Logger('Intake');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const presented = req.headers['x-api-key'];
    const key = Array.isArray(presented) ? presented[0] : presented;
    if (secretMatches(key, this.config.ingestApiKey)) return true;
    const reason = !this.config.ingestApiKey ? 'INGEST_API_KEY is not set' : key ? 'wrong x-api-key' : 'no x-api-key header';
    this.metrics.eventsRejected.inc({ source: 'http', reason: 'unauthorized' });
    this.logger.warn({ ip: req.ip, reason }, 'event refused');
    throw new UnauthorizedException(
      this.config.ingestApiKey ? 'expected the x-api-key header of the EventBridge connection' : 'intake is off: set INGEST_API_KEY',
    );
  }
}
