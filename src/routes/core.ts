import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { AnswerBody, BetaHeader, ContentsBody, FindSimilarBody, SearchBody } from '../exa/core-schemas'
import { withQuery } from '../exa/query'
import { PreviewWebsetBody, PreviewWebsetQuery } from '../exa/webset-bodies'
import { WEBSETS_BASE } from '../exa/websets'
import { requireKey } from '../http/auth'
import { jsonBody } from '../http/json-body'
import { zv } from '../http/validator'
import { passThrough } from '../operations/upstream'

/** /contents takes many URLs: a larger body than the other calls' 64 KiB. */
const CONTENTS_MAX_BYTES = 256 * 1024

type WithBeta = { out: { json: object; header: { 'exa-beta'?: string | undefined } } }

/** Forwards the validated body, and the `exa-beta` header as it came (validated) if there was one. */
const forwardWithBeta = (path: '/search' | '/contents') => (c: Context<AppEnv, string, WithBeta>) => {
  const beta = c.req.valid('header')['exa-beta']
  return passThrough(c, {
    method: 'POST',
    path,
    body: c.req.valid('json'),
    headers: beta ? { 'exa-beta': beta } : undefined,
  })
}

/**
 * Exa's paid calls at Exa's own paths: search, findSimilar, contents, answer. Nothing changes
 * on Exa, so nothing is audited; each call spends money, so none is ever retried. A body that
 * asks for a stream (`/answer` with `stream: true`, `/search` with `stream` and `outputSchema`)
 * gets Exa's SSE passed through as it arrives.
 */
export const core = new Hono<AppEnv>()
  .post(
    '/search',
    requireKey('search'),
    jsonBody(),
    zv('json', SearchBody),
    zv('header', BetaHeader),
    forwardWithBeta('/search')
  )
  .post('/findSimilar', requireKey('search'), jsonBody(), zv('json', FindSimilarBody), (c) =>
    passThrough(c, { method: 'POST', path: '/findSimilar', body: c.req.valid('json') })
  )
  .post(
    '/contents',
    requireKey('contents'),
    jsonBody(CONTENTS_MAX_BYTES),
    zv('json', ContentsBody),
    zv('header', BetaHeader),
    forwardWithBeta('/contents')
  )
  .post('/answer', requireKey('answer'), jsonBody(), zv('json', AnswerBody), (c) =>
    passThrough(c, { method: 'POST', path: '/answer', body: c.req.valid('json') })
  )
  // A webset's preview changes nothing at Exa, so it is not audited; like a paid call it is never
  // retried, and it needs `websets:write` (what creating the webset would). Routed before the
  // changes, where `POST /websets/{id}` would take `preview` for a webset's id.
  .post(
    `${WEBSETS_BASE}/websets/preview`,
    requireKey('websets:write'),
    zv('query', PreviewWebsetQuery),
    jsonBody(),
    zv('json', PreviewWebsetBody),
    (c) =>
      passThrough(c, {
        method: 'POST',
        path: withQuery(`${WEBSETS_BASE}/websets/preview`, c.req.valid('query')),
        body: c.req.valid('json'),
      })
  )
