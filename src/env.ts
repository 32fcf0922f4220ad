import type { Context } from 'hono'
import * as z from 'zod/mini'
import type { Db } from './db/client'
import type { UpstreamResponse } from './exa/client'
import type { Principal } from './keys/principal'
import { perObject } from './lib/per-object'

/** Secrets are not in wrangler.toml, so `wrangler types` cannot see them. */
export type Bindings = Env & {
  EXA_API_KEY?: string
  ADMIN_TOKEN?: string
}

export type Config = {
  exaApiKey: string | undefined
  exaBaseUrl: string
  /** Set only when long enough to use (see MIN_ADMIN_TOKEN_LENGTH). */
  adminToken: string | undefined
  /** Why the admin API is off (it names the setting, never its value); undefined when it is not. */
  adminTokenProblem: string | undefined
  allowedOrigins: string[]
  upstreamTimeoutMs: number
  defaultRateLimit: { requests: number; periodSeconds: number }
}

/** A read of Exa started before its request was admitted: `call` names it (method and path). */
export type ReadAhead = { call: string; response: Promise<UpstreamResponse> }

/**
 * Exa's answer as the usage row records it: its request id, and once the answer has ended (at
 * once, or for a stream when the stream ends) its `costDollars.total` in millionths (null when it
 * gave none) and when.
 */
export type ForwardedUsage = {
  upstreamRequestId: string | null
  ended: Promise<{ costMicros: number | null; at: number }>
}

/** An Idempotency-Key claim: the record's primary key (its holder is the request id). */
export type IdempotencyClaim = { keyId: string; idempotencyKey: string }

export type AppEnv = {
  Bindings: Bindings
  Variables: {
    requestId: string
    config: Config
    db: Db
    principal: Principal
    /** The status of the last Exa call, for the access log. */
    upstreamStatus: number
    /** The Idempotency-Key this request holds, if any: its write-ahead row is linked to it. */
    idempotencyClaim?: IdempotencyClaim
    /** Starts the route's free read of Exa ahead of admission (set by `readAhead`, called by requireKey). */
    startReadAhead?: (c: Context<AppEnv>) => void
    /** That read, once started: given to the handler that makes the same call (operations/upstream.ts). */
    readAhead?: ReadAhead
    /** When the request's first call to Exa went out (operations/upstream.ts): a usage row is then written. */
    forwardedAt?: number
    /** What the usage row needs from Exa's answer (http/usage-meter.ts). */
    usage?: ForwardedUsage
    /** Set when the key is past its soft budget: what is left of the hard one, in millionths (http/rate-limit.ts). */
    budgetRemainingMicros?: number
    /** The route spends at Exa though its scope is not a paid one (an agent run's create): budgets apply. */
    paid?: boolean
  }
}

const optionalSecret = z.pipe(
  z.optional(z.string()),
  z.transform((value) => value?.trim() || undefined)
)
const positiveInt = (name: string, fallback: number) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((value, ctx) => {
      if (!value?.trim()) return fallback
      const n = Number(value)
      if (Number.isInteger(n) && n > 0) return n
      ctx.issues.push({ code: 'custom', input: value, message: `${name} must be a positive integer` })
      return z.NEVER
    })
  )

/**
 * A bearer token shorter than this is within reach of guessing. It does not stop the gateway,
 * as a missing Exa key does not: the admin API alone is off, and /healthz says why.
 */
export const MIN_ADMIN_TOKEN_LENGTH = 32

/** ADMIN_TOKEN: the token when long enough to use, else the problem (naming the setting, never its value). */
const adminToken = z.pipe(
  optionalSecret,
  z.transform((token) =>
    token !== undefined && token.length < MIN_ADMIN_TOKEN_LENGTH
      ? {
          token: undefined,
          problem: `ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (openssl rand -base64 32 makes one)`,
        }
      : { token, problem: undefined }
  )
)

const ConfigSchema = z.object({
  EXA_API_KEY: optionalSecret,
  ADMIN_TOKEN: adminToken,
  EXA_BASE_URL: z.pipe(
    z.optional(z.string()),
    z.transform((value, ctx) => {
      const url = value?.trim() || 'https://api.exa.ai'
      if (/^https?:\/\/[^/]+\/?$/.test(url)) return url.replace(/\/$/, '')
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: 'EXA_BASE_URL must be an origin like https://api.exa.ai',
      })
      return z.NEVER
    })
  ),
  ALLOWED_ORIGINS: z.pipe(
    z.optional(z.string()),
    z.transform((value) =>
      (value ?? '')
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean)
    )
  ),
  UPSTREAM_TIMEOUT_MS: positiveInt('UPSTREAM_TIMEOUT_MS', 10_000),
  RATE_LIMIT_REQUESTS: positiveInt('RATE_LIMIT_REQUESTS', 600),
  RATE_LIMIT_PERIOD_SECONDS: positiveInt('RATE_LIMIT_PERIOD_SECONDS', 60),
})

/**
 * Parses vars and secrets once per env object. Returns the config, or a message naming what is
 * wrong (never a value: a misplaced secret must not end up in an error).
 */
export const parseConfig = perObject((env: Bindings): Config | string => {
  const result = ConfigSchema.safeParse(env)
  return result.success
    ? {
        exaApiKey: result.data.EXA_API_KEY,
        exaBaseUrl: result.data.EXA_BASE_URL,
        adminToken: result.data.ADMIN_TOKEN.token,
        adminTokenProblem: result.data.ADMIN_TOKEN.problem,
        allowedOrigins: result.data.ALLOWED_ORIGINS,
        upstreamTimeoutMs: result.data.UPSTREAM_TIMEOUT_MS,
        defaultRateLimit: {
          requests: result.data.RATE_LIMIT_REQUESTS,
          periodSeconds: result.data.RATE_LIMIT_PERIOD_SECONDS,
        },
      }
    : result.error.issues.map((issue) => issue.message).join('; ')
})
