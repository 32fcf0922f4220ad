import type * as z from 'zod/mini'

// What zod's own helpers do for the values we validate (parsed JSON, query and path strings).
// Not imported: reaching `z.core.util` through the namespace pulls all of zod into the bundle.
function parsedType(input: unknown): string {
  if (typeof input === 'number') return Number.isNaN(input) ? 'nan' : 'number'
  if (input === null) return 'null'
  return Array.isArray(input) ? 'array' : typeof input
}
const stringifyPrimitive = (value: unknown) => (typeof value === 'string' ? `"${value}"` : `${String(value)}`)
const joinValues = (values: readonly unknown[], separator: string) => values.map(stringifyPrimitive).join(separator)

/** The units zod's English locale names sizes in (of the kinds we validate: no sets, maps, files). */
const UNITS: Record<string, string> = { string: 'characters', array: 'items' }

const typeName = (type: string, input?: unknown) =>
  type === 'number' && typeof input === 'number' && !Number.isFinite(input) ? String(input) : type === 'nan' ? 'NaN' : type

function size(kind: 'big' | 'small', origin: string | undefined, adj: string, limit: { toString(): string }) {
  const unit = origin ? UNITS[origin] : undefined
  const what = `${origin ?? 'value'} to ${unit ? 'have' : 'be'} ${adj}${limit.toString()}${unit ? ` ${unit}` : ''}`
  return `Too ${kind}: expected ${what}`
}

/**
 * English messages for the issues our schemas can raise, word for word those of zod's `en`
 * locale (zod/mini has none: every issue says "Invalid input"). Ours because the locale carries a
 * dictionary of some thirty string formats we never use (the only one we check is `regex`) and
 * cases we cannot raise (multipleOf, sets and maps, plain unions: our one discriminated union
 * words its own), which fall back to "Invalid input" here.
 */
export function englishMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `Invalid input: expected ${typeName(issue.expected)}, received ${typeName(parsedType(issue.input), issue.input)}`
    case 'invalid_value':
      return issue.values.length === 1
        ? `Invalid input: expected ${stringifyPrimitive(issue.values[0])}`
        : `Invalid option: expected one of ${joinValues(issue.values, '|')}`
    case 'too_big':
      return size('big', issue.origin, issue.exact ? 'exactly ' : issue.inclusive ? '<=' : '<', issue.maximum)
    case 'too_small':
      return size('small', issue.origin, issue.exact ? 'exactly ' : issue.inclusive ? '>=' : '>', issue.minimum)
    case 'invalid_format':
      return issue.format === 'regex' ? `Invalid string: must match pattern ${issue.pattern}` : `Invalid ${issue.format}`
    case 'unrecognized_keys':
      return `Unrecognized key${issue.keys.length > 1 ? 's' : ''}: ${joinValues(issue.keys, ', ')}`
    case 'invalid_key':
      return `Invalid key in ${issue.origin}`
    default:
      return 'Invalid input'
  }
}
