import * as z from 'zod/mini'
import { SCOPES } from './principal'

/** A browser origin: scheme, host and optional port; nothing else (no path, no trailing slash). */
const Origin = z.string().check(
  z.refine((value) => {
    try {
      const url = new URL(value)
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value
    } catch {
      return false
    }
  }, 'each origin must look like https://app.example.com or http://localhost:5173 (no path, no trailing slash)')
)

const FutureDate = z.pipe(
  z.string(),
  z.transform((value, ctx) => {
    const ms = Date.parse(value)
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
      ctx.issues.push({ code: 'custom', input: value, message: 'expiresAt must be an ISO 8601 date-time' })
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

const Name = z.string().check(z.trim(), z.minLength(1, 'name must not be empty'), z.maxLength(100))
const Scopes = z.array(z.enum(SCOPES)).check(z.minLength(1, 'give at least one scope'))

export const CreateKeyBody = z.strictObject({
  name: Name,
  scopes: Scopes,
  origins: z.optional(z.array(Origin).check(z.minLength(1, 'origins must list at least one origin, or be left out'))),
  expiresAt: z.optional(FutureDate),
  rateLimit: z.optional(RateLimit),
})

export const UpdateKeyBody = z.strictObject({
  name: z.optional(Name),
  scopes: z.optional(Scopes),
  origins: z.optional(z.nullable(z.array(Origin).check(z.minLength(1)))),
  expiresAt: z.optional(z.nullable(FutureDate)),
  rateLimit: z.optional(z.nullable(RateLimit)),
})

export const RotateKeyBody = z.strictObject({
  gracePeriodSeconds: z.optional(z.int().check(z.minimum(0), z.maximum(30 * 86_400))),
})

export const KeyIdParam = z.object({
  id: z.string().check(z.regex(/^key_[0-9a-z]{26}$/, 'key id looks like key_ followed by 26 characters')),
})
