/**
 * Type-level pins, checked by `npm run typecheck` (nothing here runs): each body schema of
 * src/exa/core-schemas.ts against the body exa-js 2.23.0 sends, in both directions.
 * - Sendable: every body exa-js's types let it send is an input the schema's type accepts.
 * - Allowed: every body the schema lets through is one exa-js's types allow.
 * A field added, removed or retyped on either side fails the typecheck here.
 */
import type {
  AnswerOptions,
  ContentsOptions,
  CreateWebhookParameters,
  UpdateWebhookParameters,
  UpdateWebsetRequest,
  Exa,
  FindSimilarOptions,
  RegularSearchOptions,
  ResearchCreateRequest,
  SummaryContentsOptions,
} from 'exa-js'
import type * as z from 'zod/mini'
import type { AnswerBody, ContentsBody, FindSimilarBody, ResearchCreateBody, SearchBody } from '../src/exa/core-schemas'
import type { UpdateWebsetBody } from '../src/exa/webset-changes'
import type { CreateWebhookBody, UpdateWebhookBody } from '../src/exa/webhooks'

/** exa-js's ZodSchema (its own zod 3), as its types name it. */
type ExaZodSchema = Exclude<NonNullable<SummaryContentsOptions['schema']>, Record<string, unknown>>

/**
 * What goes on the wire: exa-js turns a zod schema (`summary.schema`, `outputSchema`) into JSON
 * Schema before sending it, so on the wire it is a plain object.
 */
type Wire<T> = T extends ExaZodSchema
  ? Record<string, unknown>
  : T extends readonly (infer U)[]
    ? Wire<U>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T

/** On the wire an exa-js enum member is its string value. */
export type EnumValues<T> = T extends string
  ? `${T}`
  : T extends readonly (infer U)[]
    ? EnumValues<U>[]
    : T extends object
      ? { [K in keyof T]: EnumValues<T[K]> }
      : T

/**
 * Every field path of a type, through unions, objects and arrays: `.contents.text.maxCharacters`.
 * Assignability alone lets an optional field exist on one side only; comparing paths does not.
 */
type Paths<T, P extends string = ''> = T extends readonly (infer U)[]
  ? Paths<U, `${P}[]`>
  : T extends object
    ? { [K in keyof T & string]-?: `${P}.${K}` | Paths<NonNullable<T[K]>, `${P}.${K}`> }[keyof T & string]
    : never
type None<T> = [T] extends [never] ? true : false

export type { Wire }

export type Pin<Schema extends z.ZodMiniType, Sent> = {
  /** What exa-js sends is a valid input, and the schema knows every field exa-js has. */
  sendable: [Sent] extends [z.input<Schema>] ? None<Exclude<Paths<Sent>, Paths<z.input<Schema>>>> : false
  /** What the schema lets through is a body exa-js's types allow, with no field they lack. */
  allowed: [z.output<Schema>] extends [Sent] ? None<Exclude<Paths<z.output<Schema>>, Paths<Sent>>> : false
}

/** `search(query, options)` and `streamSearch`: the query plus RegularSearchOptions (betas go in a header). */
type SearchSent = Wire<{ query: string } & RegularSearchOptions>
/** `findSimilar(url, options)`. */
type FindSimilarSent = Wire<{ url: string } & FindSimilarOptions>
/** `getContents(urls, options)`: the URLs as a list, plus ContentsOptions (betas go in a header). */
type ContentsSent = Wire<{ urls: string[] } & ContentsOptions>
/** `answer(query, options)`, and `streamAnswer(query, options)` with `stream: true`. */
type StreamAnswerOptions = NonNullable<Parameters<Exa['streamAnswer']>[1]>
type AnswerSent = Wire<{ query: string } & (AnswerOptions | (StreamAnswerOptions & { stream: true }))>
/** `research.create(params)`: exa-js fills in `model`; the type leaves it optional. */
type ResearchSent = Wire<Omit<ResearchCreateRequest, 'model'> & Partial<Pick<ResearchCreateRequest, 'model'>>>

export const pins = {
  search: { sendable: true, allowed: true },
  findSimilar: { sendable: true, allowed: true },
  contents: { sendable: true, allowed: true },
  answer: { sendable: true, allowed: true },
  research: { sendable: true, allowed: true },
  createWebhook: { sendable: true, allowed: true },
  updateWebhook: { sendable: true, allowed: true },
  updateWebset: { sendable: true, allowed: true },
} satisfies {
  search: Pin<typeof SearchBody, SearchSent>
  findSimilar: Pin<typeof FindSimilarBody, FindSimilarSent>
  contents: Pin<typeof ContentsBody, ContentsSent>
  answer: Pin<typeof AnswerBody, AnswerSent>
  research: Pin<typeof ResearchCreateBody, ResearchSent>
  /** `websets.webhooks.create(params)` and `update(id, params)`: the parameters as the body. */
  createWebhook: Pin<typeof CreateWebhookBody, EnumValues<CreateWebhookParameters>>
  updateWebhook: Pin<typeof UpdateWebhookBody, EnumValues<UpdateWebhookParameters>>
  /** `websets.update(id, params)`. */
  updateWebset: Pin<typeof UpdateWebsetBody, UpdateWebsetRequest>
}
