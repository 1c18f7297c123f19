import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger, UnauthorizedException } from '@nestjs/common';
import { ApiTokenStore, isPersonToken } from '@responder/store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { secretMatches } from './auth';
import { OidcVerifier } from './oidc.verifier';
import type { AuthenticatedRequest, Principal } from './principal';

/**
 * `Authorization: Bearer <credential>` for the HTTP API. The credential says who is calling: the
 * shared API_TOKEN (reads and automation), a per-person token (`rsp_…`, created with the CLI), or
 * an OIDC JWT when OIDC is configured. The principal is put on the request for the routes that
 * need a person (approvals). Refusals are logged with the reason, never with the credential.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  private readonly logger = new Logger(BearerTokenGuard.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: ApiTokenStore,
    private readonly oidc: OidcVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const refuse = (reason: string, message: string): never => {
      this.logger.warn({ path: req.path, ip: req.ip, reason }, 'API request refused');
      throw new UnauthorizedException(message);
    };
    if (!token) return refuse('no bearer token', 'expected Authorization: Bearer <token> (API_TOKEN, a personal token, or an OIDC token)');
    let principal: Principal;
    if (this.config.apiToken && secretMatches(token, this.config.apiToken)) {
      principal = { kind: 'shared' };
    } else if (isPersonToken(token)) {
      const checked = await this.tokens.check(token);
      if (!checked.ok) return refuse(`${checked.reason} personal token`, checked.reason === 'revoked' ? 'this personal token has been revoked' : 'unknown personal token');
      principal = { kind: 'person', identity: checked.token.user, via: 'token', tokenId: checked.token.id };
    } else if (this.oidc.enabled && this.oidc.looksLikeJwt(token)) {
      const checked = await this.oidc.verify(token);
      if (!checked.ok) return refuse(`OIDC token refused: ${checked.reason}`, `OIDC token refused: ${checked.reason}`);
      principal = { kind: 'person', identity: checked.identity, via: 'oidc' };
    } else {
      return refuse('wrong token', 'wrong bearer token');
    }
    req.principal = principal;
    return true;
  }
}
