import type { Request } from 'express';

/**
 * Who made an API request, as established by its credential (never by its body):
 * - `shared`: the shared API_TOKEN, for reads and automation; it names nobody, so it cannot approve;
 * - `person`: a per-person token (`via: token`) or an OIDC JWT (`via: oidc`), acting as one catalog
 *   identity (an approver group's user name or Slack user id).
 */
export type Principal = { kind: 'shared' } | { kind: 'person'; identity: string; via: 'token' | 'oidc'; tokenId?: string };

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}

export function principalOf(req: Request): Principal {
  const principal = (req as AuthenticatedRequest).principal;
  // The guard sets it on every route it protects; a route without the guard has no principal.
  if (!principal) throw new Error('no principal: the route is not behind BearerTokenGuard');
  return principal;
}
