import { zValidator } from '@hono/zod-validator'
import type { ValidationTargets } from 'hono'
import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'
import { ApiError, type Issue } from './errors'

// zod/mini ships without messages ("Invalid input"); the English locale makes them actionable.
z.config(en())

export function toIssues(error: z.core.$ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }))
}

function summary(issues: Issue[], what: string): string {
  const first = issues[0]
  if (!first) return `invalid ${what}`
  const where = first.path ? `${first.path}: ` : ''
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return `${where}${first.message}${more}`
}

const tagFor = (target: keyof ValidationTargets) =>
  target === 'json' ? 'INVALID_REQUEST_BODY' : 'INVALID_PARAMS'

/** `@hono/zod-validator` with a hook that throws our error shape (its default body is unusable). */
export function zv<T extends z.ZodMiniType, Target extends keyof ValidationTargets>(
  target: Target,
  schema: T
) {
  return zValidator(target, schema, (result) => {
    if (result.success) return
    const issues = toIssues(result.error as z.core.$ZodError)
    throw new ApiError(tagFor(target), summary(issues, target === 'json' ? 'body' : target), { issues })
  })
}
