import type { Principal } from '../keys/principal'

/**
 * The credentials this isolate has just seen admitted, by their secret's hash: what their last
 * request here learnt (the key, its scopes, origins and limit, and how many more requests its
 * limiter allowed then). Never a reason to admit anything: every request is still looked up in
 * D1 and counted by the limiter. It only lets those two calls and a route's free read start
 * together (http/auth.ts) instead of one after the other.
 *
 * A credential refused for any reason is forgotten until it is admitted again. Bounded: past
 * MAX_WARM entries the least recently admitted goes.
 */
export type WarmKey = {
  principal: Principal
  /** Requests the limiter still allowed at the last admission, less the reads started ahead since. */
  headroom: number
}

const MAX_WARM = 1024

const warm = new Map<string, WarmKey>()

export const warmKey = (hash: string): WarmKey | undefined => warm.get(hash)

export function rememberAdmitted(hash: string, principal: Principal, headroom: number) {
  warm.delete(hash)
  warm.set(hash, { principal, headroom })
  if (warm.size > MAX_WARM) warm.delete(warm.keys().next().value!)
}

export function forgetRefused(hash: string) {
  warm.delete(hash)
}
