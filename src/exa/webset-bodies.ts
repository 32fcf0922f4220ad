import * as z from 'zod/mini'
import { booleanText } from './query'
import { Entity, Metadata, wholeNumber } from './schemas'
import { websetRef } from './websets'

/**
 * The bodies of a webset's other changes: create and preview a webset, create a search, create and
 * update an enrichment, create and update a Websets monitor. Each follows exa-js 2.23.0's parameter
 * type (pinned both ways in test/exa-types-websets.ts) with the limits of Exa's spec
 * (../shared/exa-spec/exa-websets-spec.yaml). Where the spec gives a default for a field exa-js's
 * type requires (a search's `behavior`, a monitor's `timezone`, …) the field may be left out and
 * the default is sent. Path parameters are src/exa/websets.ts's: `ItemsParams` ({webset}) for a
 * create under a webset, `WebsetItemParams`, `WebsetSearchParams`, `WebsetEnrichmentParams`,
 * `MonitorParams`. Messages leave out the field: each issue carries its path.
 */

const text = (min: number, max: number) =>
  z
    .string()
    .check(
      z.minLength(min, `must be at least ${min} character${min === 1 ? '' : 's'}`),
      z.maxLength(max, `must be at most ${max} characters`)
    )
const atMost = <T extends z.ZodMiniType>(item: T, max: number, min = 0) =>
  z.array(item).check(z.minLength(min, `must hold at least ${min}`), z.maxLength(max, `must hold at most ${max}`))

// ---- a search: the fields a webset's first search, a new search and a monitor share ----
const query = text(1, 5000)
const count = wholeNumber(1)
const criteria = atMost(z.strictObject({ description: text(1, 1000) }), 5, 1)
const source = z.enum(['import', 'webset'], 'must be "import" or "webset"')
/** An import or webset, named by id (a webset also by its externalId). */
const sourceRef = z.strictObject({ source, id: text(1, 300) })
const scope = z.array(
  z.strictObject({
    source,
    id: text(1, 300),
    relationship: z.optional(z.strictObject({ definition: text(1, 5000), limit: wholeNumber(1, 10) })),
  })
)
const behavior = z.enum(['override', 'append'], 'must be "override" or "append"')
const searchFields = {
  query,
  entity: z.optional(Entity),
  criteria: z.optional(criteria),
  exclude: z.optional(z.array(sourceRef)),
  scope: z.optional(scope),
  recall: z.optional(z.boolean()),
  maxPeoplePerCompany: z.optional(wholeNumber(1)),
}

// ---- an enrichment ----
const enrichmentFields = {
  description: text(1, 5000),
  format: z.optional(
    z.enum(
      ['text', 'date', 'number', 'options', 'email', 'phone', 'url'],
      'must be one of text, date, number, options, email, phone, url'
    )
  ),
  options: z.optional(atMost(z.strictObject({ label: text(1, 1000) }), 150, 1)),
  metadata: z.optional(Metadata),
}

/** POST /websets/v0/websets/{webset}/enrichments (exa-js CreateEnrichmentParameters). */
export const CreateEnrichmentBody = z.strictObject(enrichmentFields)
export type CreateEnrichment = z.infer<typeof CreateEnrichmentBody>

/** PATCH /websets/v0/websets/{webset}/enrichments/{id}: every field optional; `metadata: null` clears it. */
export const UpdateEnrichmentBody = z.strictObject({
  description: z.optional(enrichmentFields.description),
  format: enrichmentFields.format,
  options: enrichmentFields.options,
  metadata: z.optional(z.nullable(Metadata)),
})
export type UpdateEnrichment = z.infer<typeof UpdateEnrichmentBody>

/**
 * POST /websets/v0/websets (exa-js CreateWebsetParameters; Exa answers 201, or 409 when the
 * externalId is taken). The externalId keeps to the alphabet a path can name the webset by.
 */
export const CreateWebsetBody = z.strictObject({
  search: z.optional(z.strictObject({ ...searchFields, count: z._default(count, 10) })),
  import: z.optional(z.array(sourceRef)),
  enrichments: z.optional(z.array(CreateEnrichmentBody)),
  exclude: z.optional(z.array(sourceRef)),
  externalId: z.optional(websetRef),
  metadata: z.optional(Metadata),
})
export type CreateWebset = z.infer<typeof CreateWebsetBody>

/** POST /websets/v0/websets/preview (exa-js PreviewWebsetParameters): at most 10 preview items. */
export const PreviewWebsetBody = z.strictObject({
  search: z.strictObject({ query, entity: searchFields.entity, count: z._default(wholeNumber(1, 10), 10) }),
})
export type PreviewWebset = z.infer<typeof PreviewWebsetBody>
/** `?search=true` asks preview for items too (exa-js `preview(params, { search })`). */
export const PreviewWebsetQuery = z.strictObject({ search: booleanText })

/** POST /websets/v0/websets/{webset}/searches (exa-js CreateWebsetSearchParameters). */
export const CreateWebsetSearchBody = z.strictObject({
  ...searchFields,
  count,
  behavior: z._default(behavior, 'override'),
  metadata: z.optional(Metadata),
})
export type CreateWebsetSearch = z.infer<typeof CreateWebsetSearchBody>

// ---- a Websets monitor ----
const validZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
/** Exa's rule: 5 fields, triggering at most once a day, so the minute and the hour are single numbers. */
const ONCE_A_DAY = /^([0-5]?\d) ([01]?\d|2[0-3])( [\d*,/?LW#A-Za-z-]+){3}$/
const cadence = z.strictObject({
  cron: z
    .string()
    .check(
      z.regex(
        ONCE_A_DAY,
        'must be a 5-field cron (minute hour day month weekday) with one minute and one hour: a monitor runs at most once a day'
      )
    ),
  timezone: z._default(
    z.string().check(z.maxLength(64), z.refine(validZone, 'must be an IANA time zone such as Etc/UTC')),
    'Etc/UTC'
  ),
})
const monitorBehavior = z.strictObject({
  type: z.enum(['search'], 'must be "search"'),
  config: z.strictObject({
    query: z.optional(text(2, 10000)),
    criteria: z.optional(atMost(z.strictObject({ description: text(2, 1000) }), 5)),
    entity: searchFields.entity,
    count,
    behavior: z._default(behavior, 'append'),
  }),
})

/** POST /websets/v0/monitors (exa-js CreateMonitorParameters; Exa answers 201). */
export const CreateMonitorBody = z.strictObject({
  websetId: websetRef,
  cadence,
  behavior: monitorBehavior,
  metadata: z.optional(Metadata),
})
export type CreateMonitor = z.infer<typeof CreateMonitorBody>

/** PATCH /websets/v0/monitors/{id} (exa-js UpdateMonitor): a partial merge; `status` pauses or resumes. */
export const UpdateMonitorBody = z.strictObject({
  behavior: z.optional(monitorBehavior),
  cadence: z.optional(cadence),
  metadata: z.optional(Metadata),
  status: z.optional(z.enum(['enabled', 'disabled'], 'must be "enabled" or "disabled"')),
})
export type UpdateMonitor = z.infer<typeof UpdateMonitorBody>

// ---- what an answer must be to be kept in an audit row (upstream's object is kept as it came) ----
const child = { id: z.string(), websetId: z.string() }
export const EnrichmentSnapshot = z.looseObject({ ...child, status: z.string() })
export const WebsetSearchSnapshot = z.looseObject({ ...child, status: z.string() })
export const WebsetItemSnapshot = z.looseObject({ ...child, sourceId: z.string() })
export const MonitorSnapshot = z.looseObject({ ...child, status: z.string() })
