import * as z from 'zod/mini'
import { page, resourceId } from './query'

export const ImportIdParam = z.object({ id: resourceId('import') })

const MetadataValue = z.string().check(z.maxLength(1000, 'metadata values are at most 1000 characters'))
export const Metadata = z.record(z.string(), MetadataValue)

/** Exa's UpdateImport: both fields optional, neither nullable, nothing else. */
export const UpdateImportBody = z.strictObject({
  title: z.optional(z.string()),
  metadata: z.optional(Metadata),
})
export type UpdateImport = z.infer<typeof UpdateImportBody>

/** Exa's size limit for one CSV import, in bytes (exa-js checks 50 MiB client-side; Exa 50 MB). */
export const MAX_IMPORT_BYTES = 50_000_000

/**
 * 50000000 as `50,000,000`, without Intl: `toLocaleString` at module load initialises ICU, which
 * was a quarter of the worker's startup CPU (`wrangler check startup`, docs/performance.md).
 */
const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',')

// Messages leave out the field: the error summary and each issue carry its path.
/** A whole number from `min` to `max`, with messages that name the bounds. */
export const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number()
    .check(
      z.refine(Number.isInteger, 'must be a whole number'),
      z.minimum(min, `must be at least ${min}`),
      z.maximum(max, `must be at most ${grouped(max)}`)
    )

const ENTITY_TYPES = ['company', 'person', 'article', 'research_paper', 'custom'] as const

/** Exa's Entity: four plain types, and `custom` with a description of 2..200 characters. */
export const Entity = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.enum(['company', 'person', 'article', 'research_paper']) }),
    z.strictObject({
      type: z.enum(['custom']),
      description: z
        .string()
        .check(
          z.minLength(2, 'a custom entity needs a description of at least 2 characters'),
          z.maxLength(200, 'a custom entity description is at most 200 characters')
        ),
    }),
  ],
  // Only the "no such type" case is reworded; a missing entity keeps zod's own message.
  { error: (issue) => (issue.code === 'invalid_union' ? `must be one of ${ENTITY_TYPES.join(', ')}` : undefined) }
)

/**
 * Exa's CreateImportParameters (the `csv` format is the only one create accepts). `size` and
 * `count` describe the CSV the client will upload to the returned `uploadUrl`, so they are
 * whole numbers: bytes (at most 50,000,000) and records (at least one).
 */
export const CreateImportBody = z.strictObject({
  size: wholeNumber(1, MAX_IMPORT_BYTES),
  count: wholeNumber(1),
  format: z.enum(['csv'], 'must be "csv" (the only format create accepts)'),
  entity: Entity,
  title: z.optional(z.string()),
  metadata: z.optional(Metadata),
  csv: z.optional(z.strictObject({ identifier: z.optional(wholeNumber(0)) })),
})
export type CreateImport = z.infer<typeof CreateImportBody>
export type ListImports = z.infer<typeof ListImportsQuery>

/** Exa's list query: `limit` 1..200 and an opaque, non-empty `cursor`, passed through as sent. */
export const ListImportsQuery = z.strictObject(page(200))

/**
 * What the gateway needs of an Import it read (for before/after snapshots). Loose: the rest of
 * Exa's 13 keys are kept as they came, so the audit row shows upstream's object unchanged.
 */
export const ImportSnapshot = z.looseObject({
  id: z.string(),
  title: z.string(),
  metadata: z.record(z.string(), z.string()),
})
export type Import = z.infer<typeof ImportSnapshot>
