import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import type { RateDecision, RateLimit } from '../keys/gcra'

/**
 * Failed admin credentials allowed per client address: a burst of 10, then one every 6 s. An
 * operator who mistypes the token a few times never meets it; a guesser gets 10 tries a minute.
 */
export const ADMIN_FAILURE_LIMIT: RateLimit = { requests: 10, periodSeconds: 60 }

/**
 * The address failures are counted by: the client's IPv4 address, or the /64 of its IPv6 one (a
 * single host commonly holds a whole /64, so counting each address would not count at all).
 */
export function addressBlock(ip: string | undefined): string {
  const address = ip?.trim().toLowerCase().slice(0, 64)
  if (!address) return 'unknown'
  if (!address.includes(':')) return address
  if (address.includes('.')) return address.slice(address.lastIndexOf(':') + 1) // IPv4-mapped
  const [head = '', tail] = address.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}

const limiterFor = (c: Context<AppEnv>) =>
  c.env.RATE_LIMITER.getByName(`admin-failures:${addressBlock(c.req.header('cf-connecting-ip'))}`)

/** Asks the address's limiter; an unreachable limiter lets the request through (logged), as for keys. */
async function decide(c: Context<AppEnv>, ask: () => Promise<RateDecision>): Promise<RateDecision> {
  try {
    return await ask()
  } catch {
    console.error(
      JSON.stringify({
        level: 'error',
        requestId: c.var.requestId,
        msg: 'rate limiter unreachable; request let through',
      })
    )
    return { allowed: true, remaining: 0 }
  }
}

function refuse(decision: RateDecision) {
  if (decision.allowed) return
  const seconds = decision.retryAfterSeconds
  throw new ApiError(
    'RATE_LIMITED',
    `too many failed admin credentials from this address; retry in ${seconds} s (or use an admin key from elsewhere)`,
    { headers: { 'retry-after': String(seconds) } }
  )
}

/**
 * Refuses an admin request from an address over its failure limit, before its credential is
 * looked at: were the right token still let in, the lockout would tell a guesser when it guessed.
 */
export async function refuseLockedOut(c: Context<AppEnv>): Promise<void> {
  refuse(await decide(c, () => limiterFor(c).peek(ADMIN_FAILURE_LIMIT)))
}

/** Counts a refused admin credential against its address; the one that crosses the limit is a 429. */
export async function countFailedAdminCredential(c: Context<AppEnv>): Promise<void> {
  refuse(await decide(c, async () => (await limiterFor(c).hits(ADMIN_FAILURE_LIMIT, 1)).decisions[0]!))
}
