import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { secretMatches } from './auth';

/** `Authorization: Bearer API_TOKEN` for the HTTP API. With no API_TOKEN set, the API refuses everyone. */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly logger = new Logger(BearerTokenGuard.name);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    if (!this.config.apiToken) throw new UnauthorizedException('the HTTP API is off: set API_TOKEN to use it');
    if (!secretMatches(token, this.config.apiToken)) {
      this.logger.warn({ path: req.path, ip: req.ip, reason: token ? 'wrong token' : 'no bearer token' }, 'API request refused');
      throw new UnauthorizedException(token ? 'wrong bearer token' : 'expected Authorization: Bearer <API_TOKEN>');
    }
    return true;
  }
}
