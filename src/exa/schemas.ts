import * as z from 'zod/mini'

/** Ids enter upstream URLs, so only a safe alphabet passes (no slashes, dots or encodings). */
export const IMPORT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

export const ImportIdParam = z.object({
  id: z.string().check(z.regex(IMPORT_ID_PATTERN, 'import id must match ^[A-Za-z0-9_-]{1,128}$')),
})

const MetadataValue = z.string().check(z.maxLength(1000, 'metadata values are at most 1000 characters'))
export const Metadata = z.record(z.string(), MetadataValue)

/** Exa's UpdateImport: both fields optional, neither nullable, nothing else. */
export const UpdateImportBody = z.strictObject({
  title: z.optional(z.string()),
  metadata: z.optional(Metadata),
})
export type UpdateImport = z.infer<typeof UpdateImportBody>

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
