import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isRedisUnavailable } from '../redis/redis-errors';

/**
 * Errors that are not HttpExceptions: when Redis is unreachable, answer 503 so that EventBridge
 * retries the delivery later; anything else is a bug, answered 500 and logged with its stack.
 */
@Catch()
export class StoreUnavailableFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (error instanceof HttpException) {
      res.status(error.getStatus()).json(error.getResponse());
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (isRedisUnavailable(message)) {
      this.logger.error(`store unavailable: ${message}`);
      res.setHeader('Retry-After', '5');
      res.status(HttpStatus.SERVICE_UNAVAILABLE).json({ statusCode: 503, error: 'Service Unavailable', message: 'the incident store (Redis) is unavailable; retry later' });
      return;
    }
    this.logger.error(error instanceof Error ? error.stack : message);
    res.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
  }
}
