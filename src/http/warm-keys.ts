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
  /** Requests the limiter still allowed at the key's last admission here. */
  remaining: number
  /** Reads started ahead for this key whose requests are not admitted or refused yet. */
  readsAhead: number
}

const MAX_WARM = 1024

const warm = new Map<string, WarmKey>()

export const warmKey = (hash: string): WarmKey | undefined => warm.get(hash)

/** Whether the key's limiter left room for one more read ahead, counting those still in flight. */
export const hasHeadroom = (key: WarmKey) => key.remaining - key.readsAhead >= 1

export function rememberAdmitted(hash: string, principal: Principal, remaining: number) {
  const entry = warm.get(hash) ?? { principal, remaining, readsAhead: 0 }
  Object.assign(entry, { principal, remaining })
  warm.delete(hash) // re-inserted last: the least recently admitted go first
  warm.set(hash, entry)
  if (warm.size > MAX_WARM) warm.delete(warm.keys().next().value!)
}

export function forgetRefused(hash: string) {
  warm.delete(hash)
}
