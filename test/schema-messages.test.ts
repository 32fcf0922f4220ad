import { describe, expect, it } from 'vitest'
import { CreateImportBody, ImportSnapshot, UpdateImportBody } from '../src/exa/schemas'
import { toIssues } from '../src/http/validator'
import { CreateKeyBody, RotateKeyBody } from '../src/keys/schemas'

/**
 * The exact issues (path and message) of the metadata record (written out as an object with a
 * catchall, which costs the bundle less than `z.record`: see src/exa/schemas.ts), the entity and
 * the key integers. Each expectation is what zod's builtins say, word for word, so a schema
 * rewritten for size (or a zod upgrade) cannot change the API's 400s unnoticed.
 */
const cases: [
  string,
  { safeParse(input: unknown): { success: boolean; error?: unknown } },
  unknown,
  [string, string][],
][] = [
  [
    'metadata not an object',
    UpdateImportBody,
    { metadata: 'x' },
    [['metadata', 'Invalid input: expected record, received string']],
  ],
  [
    'metadata an array',
    UpdateImportBody,
    { metadata: ['x'] },
    [['metadata', 'Invalid input: expected record, received array']],
  ],
  [
    'metadata null',
    UpdateImportBody,
    { metadata: null },
    [['metadata', 'Invalid input: expected record, received null']],
  ],
  [
    'bad metadata values, in key order',
    UpdateImportBody,
    { metadata: { a: 1, b: 'ok', c: 'x'.repeat(1001), '0': null } },
    [
      ['metadata.0', 'Invalid input: expected string, received null'],
      ['metadata.a', 'Invalid input: expected string, received number'],
      ['metadata.c', 'metadata values are at most 1000 characters'],
    ],
  ],
  [
    'a snapshot metadata value that is a number',
    ImportSnapshot,
    { id: 'i', title: 't', metadata: { a: 1 } },
    [['metadata.a', 'Invalid input: expected string, received number']],
  ],
  [
    'a snapshot without metadata',
    ImportSnapshot,
    { id: 'i', title: 't' },
    [['metadata', 'Invalid input: expected record, received undefined']],
  ],
  [
    'a missing entity',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv' },
    [['entity', 'Invalid input: expected object, received undefined']],
  ],
  [
    'an entity that is a string',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv', entity: 'company' },
    [['entity', 'Invalid input: expected object, received string']],
  ],
  [
    'an entity that is an array',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv', entity: [] },
    [['entity', 'Invalid input: expected object, received array']],
  ],
  [
    'an unknown entity type (its other fields unchecked)',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv', entity: { type: 'planet', description: 'x' } },
    [['entity.type', 'must be one of company, person, article, research_paper, custom']],
  ],
  [
    'an entity without type',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv', entity: {} },
    [['entity.type', 'must be one of company, person, article, research_paper, custom']],
  ],
  [
    'a custom entity without description',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv', entity: { type: 'custom' } },
    [['entity.description', 'Invalid input: expected string, received undefined']],
  ],
  [
    'a custom entity with a short description and an extra key',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv', entity: { type: 'custom', description: 'x', x: 1 } },
    [
      ['entity.description', 'a custom entity needs a description of at least 2 characters'],
      ['entity', 'Unrecognized key: "x"'],
    ],
  ],
  [
    'a company entity with a description',
    CreateImportBody,
    { size: 1, count: 1, format: 'csv', entity: { type: 'company', description: 'xx' } },
    [['entity', 'Unrecognized key: "description"']],
  ],
  [
    'the webset format',
    CreateImportBody,
    { size: 1, count: 1, format: 'webset', entity: { type: 'person' } },
    [['format', 'must be "csv" (the only format create accepts)']],
  ],
  [
    'a fractional and an unsafe rate limit',
    CreateKeyBody,
    { name: 'k', scopes: ['admin'], rateLimit: { requests: 1.5, periodSeconds: 1e20 } },
    [
      ['rateLimit.requests', 'Invalid input: expected int, received number'],
      ['rateLimit.periodSeconds', 'Too big: expected int to be <=9007199254740991'],
      ['rateLimit.periodSeconds', 'Too big: expected number to be <=86400'],
    ],
  ],
  [
    'a negative unsafe and a zero rate limit',
    CreateKeyBody,
    { name: 'k', scopes: ['admin'], rateLimit: { requests: -1e20, periodSeconds: 0 } },
    [
      ['rateLimit.requests', 'Too small: expected int to be >=-9007199254740991'],
      ['rateLimit.requests', 'Too small: expected number to be >=1'],
      ['rateLimit.periodSeconds', 'Too small: expected number to be >=1'],
    ],
  ],
  [
    'a rate limit of a string and null',
    CreateKeyBody,
    { name: 'k', scopes: ['admin'], rateLimit: { requests: '5', periodSeconds: null } },
    [
      ['rateLimit.requests', 'Invalid input: expected number, received string'],
      ['rateLimit.periodSeconds', 'Invalid input: expected number, received null'],
    ],
  ],
  [
    'a fractional grace period',
    RotateKeyBody,
    { gracePeriodSeconds: 1.5 },
    [['gracePeriodSeconds', 'Invalid input: expected int, received number']],
  ],
  [
    'a grace period over 30 days',
    RotateKeyBody,
    { gracePeriodSeconds: 30 * 86_400 + 1 },
    [['gracePeriodSeconds', 'Too big: expected number to be <=2592000']],
  ],
]

describe('validation messages of the written-out schemas', () => {
  for (const [what, schema, input, expected] of cases) {
    it(`words ${what} as zod did`, () => {
      const result = schema.safeParse(input)
      expect(result.success).toBe(false)
      expect(toIssues(result.error as Parameters<typeof toIssues>[0])).toEqual(
        expected.map(([path, message]) => ({ path, message }))
      )
    })
  }

  it('passes valid values through as they came', () => {
    const metadata = { b: 'x', a: 'y', '1': 'z' }
    expect(UpdateImportBody.parse({ metadata })).toEqual({ metadata })
    expect(Object.keys(UpdateImportBody.parse({ metadata }).metadata!)).toEqual(['1', 'b', 'a'])
    expect(
      CreateImportBody.parse({ size: 1, count: 1, format: 'csv', entity: { type: 'custom', description: 'ab' } }).entity
    ).toEqual({
      type: 'custom',
      description: 'ab',
    })
    expect(
      CreateKeyBody.parse({ name: ' k ', scopes: ['admin'], rateLimit: { requests: 5, periodSeconds: 60 } })
    ).toEqual({
      name: 'k',
      scopes: ['admin'],
      rateLimit: { requests: 5, periodSeconds: 60 },
    })
  })
})
