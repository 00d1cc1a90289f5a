/** `opendispatch jwt:generate` and the tests mint application JWTs with the shared minting (channels/application-jwt.ts). */
import { mintApplicationJwt, type MintJwtOptions } from '../channels/application-jwt.js';
import { systemClock } from '../engine/clock.js';

export type GenerateJwtOptions = Omit<MintJwtOptions, 'nowMs'> & {
  /** Wall time of issue; default now. */
  nowMs?: number;
};

/** RS256 JWT with header {alg:"RS256", typ:"JWT"} and claims {iat, jti (uuid v4), application_id, exp: iat+ttl (default 900), ...extraClaims}. */
export function generateApplicationJwt(options: GenerateJwtOptions): Promise<string> {
  return mintApplicationJwt({ ...options, nowMs: options.nowMs ?? systemClock.wallNow() });
}
