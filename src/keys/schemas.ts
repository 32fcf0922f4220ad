import * as z from 'zod/mini'
import { KEY_ID_MESSAGE, KEY_ID_PATTERN } from '../lib/ids'
import { ADMIN_TOKEN_ACTOR, SCOPES } from './principal'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * A browser origin exactly as browsers send it: `https://host[:port]`, lower case, no path, no
 * trailing slash, no default port. Plain `http:` only for loopback (local development): over the
 * network an http page can be rewritten by anyone on the path, key included.
 */
export function isBrowserOrigin(value: string): boolean {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  if (url.origin !== value) return false
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
}

const Origin = z
  .string()
  .check(
    z.refine(
      isBrowserOrigin,
      'each origin must look like https://app.example.com or https://app.example.com:8443 (lower case, no path, no trailing slash; http only for localhost and 127.0.0.1)'
    )
  )

const noRepeats = (what: string) =>
  z.refine<string[]>((values) => new Set(values).size === values.length, `${what} must not repeat`)

const Origins = z
  .array(Origin)
  .check(z.minLength(1, 'origins must list at least one origin, or be left out'), z.maxLength(20), noRepeats('origins'))

const FutureDate = z.pipe(
  z.string(),
  z.transform((value, ctx) => {
    const ms = Date.parse(value)
    if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: 'expiresAt must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z',
      })
      return z.NEVER
    }
    if (ms <= Date.now()) {
      ctx.issues.push({ code: 'custom', input: value, message: 'expiresAt must be in the future' })
      return z.NEVER
    }
    return ms
  })
)

const RateLimit = z.strictObject({
  requests: z.int().check(z.minimum(1), z.maximum(1_000_000)),
  periodSeconds: z.int().check(z.minimum(1), z.maximum(86_400)),
})

const Dollars = (name: string) =>
  z.number(`${name} must be a number of US dollars`).check(
    z.positive(`${name} must be more than 0`),
    z.maximum(1_000_000, `${name} must be at most 1000000`),
    z.refine((usd) => Math.abs(usd * 1e6 - Math.round(usd * 1e6)) < 1e-6, `${name} has at most 6 decimals`)
  )

/** A budget: `usd` per UTC `period`, refused once reached; `soft` (below usd) only flags. */
const Budget = z
  .strictObject({
    usd: Dollars('budget.usd'),
    period: z.enum(['day', 'month'], 'budget.period must be day or month'),
    soft: z.optional(Dollars('budget.soft')),
  })
  .check(
    z.refine((budget) => budget.soft === undefined || budget.soft < budget.usd, {
      message: 'budget.soft must be below budget.usd',
      path: ['soft'],
    })
  )

/** A key's name: the `actor` of its audit rows, so never the bootstrap token's. Unique (see the admin route). */
const Name = z.string().check(
  z.trim(),
  z.minLength(1, 'name must not be empty'),
  z.maxLength(100),
  z.refine(
    (name) => name.toLowerCase() !== ADMIN_TOKEN_ACTOR,
    `name ${ADMIN_TOKEN_ACTOR} is reserved: it is the actor of the bootstrap ADMIN_TOKEN's audit rows`
  )
)
const Scopes = z.array(z.enum(SCOPES)).check(z.minLength(1, 'give at least one scope'), noRepeats('scopes'))

export const CreateKeyBody = z.strictObject({
  name: Name,
  scopes: Scopes,
  origins: z.optional(Origins),
  expiresAt: z.optional(FutureDate),
  rateLimit: z.optional(RateLimit),
  budget: z.optional(Budget),
})

/** `null` clears a setting: no origins (server key), no expiry, the default rate limit. */
export const UpdateKeyBody = z
  .strictObject({
    name: z.optional(Name),
    scopes: z.optional(Scopes),
    origins: z.optional(z.nullable(Origins)),
    expiresAt: z.optional(z.nullable(FutureDate)),
    rateLimit: z.optional(z.nullable(RateLimit)),
    budget: z.optional(z.nullable(Budget)),
  })
  .check(
    z.refine(
      (body) => Object.keys(body).length > 0,
      'nothing to change: give at least one of name, scopes, origins, expiresAt, rateLimit, budget'
    )
  )

export type KeyUpdate = z.infer<typeof UpdateKeyBody>

export const RotateKeyBody = z.strictObject({
  /** How long the old secret keeps working; 0 (the default) ends it at once. */
  gracePeriodSeconds: z.optional(z.int().check(z.minimum(0), z.maximum(30 * 86_400))),
})

export const KeyIdParam = z.object({
  id: z.string().check(z.regex(KEY_ID_PATTERN, KEY_ID_MESSAGE)),
})
