import * as z from 'zod/mini'
import { resourceId } from './query'
import { ListImportsQuery } from './schemas'

/**
 * The bodies of Exa's paid calls (/search, /findSimilar, /contents, /answer) and of the retired
 * Research API, as exa-js 2.23.0 sends them: its exported parameter types, with the zod schemas
 * it accepts turned into the JSON schemas it sends. Strict: a field exa-js's types do not have is
 * refused. test/exa-types.ts pins each schema to its exa-js type in both directions.
 */

// Messages leave out the field: the error summary and each issue carry its path.
const count = (min = 0) =>
  z.number().check(z.refine(Number.isInteger, 'must be a whole number'), z.minimum(min, `must be at least ${min}`))
const text = z.string()
const strings = z.array(z.string())
const jsonObject = z.record(z.string(), z.unknown())
/** `true`, or an object of options (exa-js's types have no `false` for these). */
const trueOr = <T extends z.ZodMiniType>(options: T) => z.union([z.literal(true), options])

const SECTION_TAGS = ['unspecified', 'header', 'navigation', 'banner', 'body', 'sidebar', 'footer', 'metadata'] as const

const TextContentsOptions = z.strictObject({
  maxCharacters: z.optional(count(1)),
  includeHtmlTags: z.optional(z.boolean()),
  verbosity: z.optional(z.enum(['compact', 'standard', 'full'])),
  includeSections: z.optional(z.array(z.enum(SECTION_TAGS))),
  excludeSections: z.optional(z.array(z.enum(SECTION_TAGS))),
})

const HighlightsContentsOptions = z.strictObject({
  query: z.optional(text),
  maxCharacters: z.optional(count(1)),
  dynamic: z.optional(z.boolean()),
  numSentences: z.optional(count(1)),
  highlightsPerUrl: z.optional(count(1)),
})

/** exa-js turns a zod `schema` into JSON Schema before sending it. */
const SummaryContentsOptions = z.strictObject({ query: z.optional(text), schema: z.optional(jsonObject) })

/** exa-js's ContentsOptions: what to return of each page (search, findSimilar and contents). */
const contentsFields = {
  text: z.optional(trueOr(TextContentsOptions)),
  highlights: z.optional(trueOr(HighlightsContentsOptions)),
  summary: z.optional(trueOr(SummaryContentsOptions)),
  livecrawl: z.optional(z.enum(['never', 'fallback', 'always', 'auto', 'preferred'])),
  context: z.optional(trueOr(z.strictObject({ maxCharacters: z.optional(count(1)) }))),
  livecrawlTimeout: z.optional(count(0)),
  maxAgeHours: z.optional(count(-1)),
  snapshotAsOf: z.optional(text),
  filterEmptyResults: z.optional(z.boolean()),
  subpages: z.optional(count(0)),
  subpageTarget: z.optional(z.union([text, strings])),
  extras: z.optional(z.strictObject({ links: z.optional(count(0)), imageLinks: z.optional(count(0)) })),
}
export const ContentsOptions = z.strictObject(contentsFields)

const CATEGORIES = ['company', 'publication', 'news', 'personal site', 'financial report', 'people'] as const

/** exa-js's BaseSearchOptions (search and findSimilar). */
const baseSearchFields = {
  contents: z.optional(ContentsOptions),
  numResults: z.optional(count(1)),
  includeDomains: z.optional(strings),
  excludeDomains: z.optional(strings),
  startCrawlDate: z.optional(text),
  endCrawlDate: z.optional(text),
  startPublishedDate: z.optional(text),
  endPublishedDate: z.optional(text),
  category: z.optional(z.enum(CATEGORIES)),
  includeText: z.optional(strings),
  excludeText: z.optional(strings),
  flags: z.optional(strings),
  userLocation: z.optional(text),
  stream: z.optional(z.boolean()),
}

/** Search's `outputSchema`: plain text, or a JSON object schema. */
const OutputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), description: z.optional(text) }),
  z.strictObject({ type: z.literal('object'), properties: z.optional(jsonObject), required: z.optional(strings) }),
])

const query = z.string().check(z.minLength(1, 'must not be empty'))

const regularSearchFields = {
  query,
  ...baseSearchFields,
  moderation: z.optional(z.boolean()),
  useAutoprompt: z.optional(z.boolean()),
  systemPrompt: z.optional(text),
  outputSchema: z.optional(OutputSchema),
}

export const SEARCH_TYPES = ['keyword', 'neural', 'auto', 'hybrid', 'fast', 'instant'] as const
export const DEEP_SEARCH_TYPES = ['deep-lite', 'deep', 'deep-reasoning'] as const

/**
 * POST /search: exa-js's RegularSearchOptions plus the query. `additionalQueries` (at most 5)
 * belongs to the deep types only. `stream: true` with an `outputSchema` makes Exa answer SSE.
 */
export const SearchBody = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ ...regularSearchFields, type: z.optional(z.enum(SEARCH_TYPES)) }),
    z.strictObject({
      ...regularSearchFields,
      type: z.enum(DEEP_SEARCH_TYPES),
      additionalQueries: z.optional(z.array(text).check(z.maxLength(5, 'at most 5 additional queries'))),
    }),
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `must be one of ${[...SEARCH_TYPES, ...DEEP_SEARCH_TYPES].join(', ')}`
        : undefined,
  }
)

/** POST /findSimilar (deprecated by Exa, still in exa-js): a URL plus BaseSearchOptions. */
export const FindSimilarBody = z.strictObject({
  url: z.string().check(z.minLength(1, 'must not be empty')),
  ...baseSearchFields,
  excludeSourceDomain: z.optional(z.boolean()),
})

/** POST /contents: the URLs (exa-js always sends `urls`, at least one) plus ContentsOptions. */
export const ContentsBody = z.strictObject({
  urls: z.array(z.string().check(z.minLength(1, 'must not be empty'))).check(z.minLength(1, 'give at least one URL')),
  ...contentsFields,
})

const answerFields = {
  query,
  text: z.optional(z.boolean()),
  systemPrompt: z.optional(text),
  outputSchema: z.optional(jsonObject),
  userLocation: z.optional(text),
}

/**
 * POST /answer: `answer()` sends `stream: false` and model "exa"; `streamAnswer()` sends
 * `stream: true` and may ask for "exa-pro" (exa-js's types allow it there only).
 */
export const AnswerBody = z.discriminatedUnion(
  'stream',
  [
    z.strictObject({ ...answerFields, stream: z.optional(z.literal(false)), model: z.optional(z.enum(['exa'])) }),
    z.strictObject({ ...answerFields, stream: z.literal(true), model: z.optional(z.enum(['exa', 'exa-pro'])) }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be a boolean' : undefined) }
)

/** POST /research/v1 (retired upstream: Exa answers 410). */
export const ResearchCreateBody = z.strictObject({
  instructions: z.string().check(z.minLength(1, 'must not be empty')),
  model: z.optional(z.enum(['exa-research-fast', 'exa-research', 'exa-research-pro'])),
  outputSchema: z.optional(jsonObject),
})

/** A research id enters the upstream URL: the same safe alphabet as the other resource ids. */
export const ResearchIdParam = z.object({ id: resourceId('research') })

/** GET /research/v1: exa-js sends `cursor` and `limit`, as for the imports list (1..200). */
export const ListResearchQuery = ListImportsQuery

const flag = z.enum(['true', 'false'], 'must be true or false')

/** GET /research/v1/{id}: `stream=true` asks for SSE; `events` adds the event log. */
export const GetResearchQuery = z.strictObject({ stream: z.optional(flag), events: z.optional(flag) })

/** The `exa-beta` header exa-js sends for `betas` (search, contents): comma-joined tokens. */
export const BetaHeader = z.object({
  'exa-beta': z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[a-z0-9-]{1,64}( *, *[a-z0-9-]{1,64}){0,7}$/,
          'must be comma-separated beta names like dynamic-highlights-2026-08-28'
        )
      )
  ),
})
