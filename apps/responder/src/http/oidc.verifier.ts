import { Inject, Injectable } from '@nestjs/common';
import { type JWTVerifyGetKey, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';

/** A JWT is three base64url segments; anything else is not worth a signature check. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export type OidcCheck = { ok: true; identity: string } | { ok: false; reason: string };

/**
 * OIDC JWTs from the team's identity provider (OIDC_ISSUER, OIDC_AUDIENCE, OIDC_JWKS_URL): the
 * signature against the provider's keys (fetched and cached by jose, refetched for an unknown key
 * id), issuer, audience and expiry are checked; OIDC_USER_CLAIM names the catalog user.
 */
@Injectable()
export class OidcVerifier {
  private readonly keys: JWTVerifyGetKey | null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.keys = config.oidc ? createRemoteJWKSet(new URL(config.oidc.jwksUrl), { timeoutDuration: 3000 }) : null;
  }

  get enabled(): boolean {
    return this.keys !== null;
  }

  looksLikeJwt(token: string): boolean {
    return JWT_SHAPE.test(token);
  }

  async verify(token: string): Promise<OidcCheck> {
    const oidc = this.config.oidc;
    if (!oidc || !this.keys) return { ok: false, reason: 'OIDC is not configured' };
    try {
      const { payload } = await jwtVerify(token, this.keys, { issuer: oidc.issuer, audience: oidc.audience, clockTolerance: 30 });
      const identity = payload[oidc.userClaim];
      if (typeof identity !== 'string' || identity.length === 0) return { ok: false, reason: `the token has no "${oidc.userClaim}" claim (OIDC_USER_CLAIM)` };
      return { ok: true, identity };
    } catch (err) {
      // jose's messages name the failed check (e.g. 'unexpected "aud" claim value') and never the token.
      if (err instanceof errors.JOSEError) return { ok: false, reason: err.message };
      throw err;
    }
  }
}
