import type { Context } from 'hono'
import type { ResourceAction } from '../audit/actions'
import { settlePending } from '../audit/chain'
import type { Snapshot } from '../audit/diff'
import { isOrdered, resourceOf, sealResource, settleInOrder } from '../audit/order'
import { recordFailedAttempt, settledFields, writeAhead, type AuditStart } from '../audit/recorder'
import type { AuditEventRow } from '../db/schema'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { callExa, openExa, readUpstream, type UpstreamCall, type UpstreamResponse } from '../exa/client'
import { auditOrigin } from './origin'
import { readOf, type Resource } from './resources'
import { settleInBackground } from './reconcile'
import {
  forwardingConfig,
  isEventStream,
  isSuccess,
  readExaWithOneRetry,
  relay,
  relayStream,
  upstreamConfig,
} from './upstream'

type Schema = { safeParse: (value: unknown) => { success: boolean; data?: unknown } }

/**
 * The row's `after` from Exa's successful answer (already checked to be the resource), without
 * what Exa returns once; or `read`: Exa answers with no body (an enrichment's update) or not with
 * the resource (a trigger), so the after is read back by a GET once the response is sent.
 */
export type AfterOf = ((answer: Snapshot) => Snapshot | null) | 'read'

/** One audited change of a resource: what to send Exa and how to read its answer into the row. */
export type AuditedCall = {
  action: ResourceAction
  resource: Resource
  /** The resource the call is about; null for a create (Exa names it in its answer). */
  resourceId: string | null
  /** The resource's parent (a webset, for its items, searches and enrichments). */
  parentId?: string | null
  requestBody?: unknown
  revertsEventId?: string | null
  /** Read the resource first, for the row's `before` (update, delete). */
  readsBefore: boolean
  upstream: UpstreamCall
  /** The row's `after` from Exa's successful answer, or `read` back by a GET when the answer is not the resource. */
  after: AfterOf
  /** What a successful answer must be, when not the resource (a deleted stub); unchecked when the after is read. */
  answer?: Schema
  /**
   * A create that replaces part of its parent (a search with `override` discards the webset's
   * items it does not find): the parent is read first, and what the call replaces is the row's before.
   */
  replaces?: { resource: Resource; id: string; summary: (parent: Snapshot) => Snapshot }
  /** Refuses the call (throws) from the before read, before anything is written or forwarded (a revert's check). */
  check?: (before: Snapshot) => void
}

const malformed = (resource: Resource) =>
  new ApiError('UPSTREAM_ERROR', `Exa answered with something that is not ${resource.noun}`)

/**
 * The audited-call machinery shared by create, update and delete: read the before snapshot,
 * commit the write-ahead row, forward (never retried), settle the row, answer with upstream's
 * response unchanged. Every authenticated, valid attempt leaves exactly one row.
 */
export async function runAuditedCall(c: Context<AppEnv>, call: AuditedCall): Promise<Response> {
  upstreamConfig(c) // refuses before anything is read when no Exa key is configured
  const start: AuditStart = {
    ...auditOrigin(c),
    action: call.action,
    resourceType: call.resource.type,
    resourceId: call.resourceId,
    parentId: call.parentId ?? null,
    requestBody: call.requestBody ?? null,
    revertsEventId: call.revertsEventId ?? null,
  }

  let before: Snapshot | null = null
  const { replaces } = call
  if (replaces) {
    const read = await readBefore(c, replaces.resource, replaces.id, null, start)
    if (read instanceof Response) return read
    before = replaces.summary(read)
  } else if (call.readsBefore) {
    const read = await readBefore(c, call.resource, start.resourceId!, start.parentId ?? null, start)
    if (read instanceof Response) return read
    before = read
    // The resource by its own id (a webset may be named by its externalId): the order keys on it.
    if (typeof before.id === 'string') start.resourceId = before.id
    call.check?.(before)
  }

  return outlivingTheClient(c, forwardAndSettle(c, call, start, before))
}

/**
 * Work a client's going away must not cut short. Deployed, a request whose client disconnects is
 * cancelled with everything it awaits, except what it handed to `waitUntil`: a forwarded change
 * cut off there would leave its row pending for the reconciler, and one cut off between the
 * write-ahead row and the call would leave a row for a change never sent. Kept alive, the change
 * is forwarded and its row settled as if the client had stayed (docs/architecture.md §5).
 */
function outlivingTheClient<T>(c: Context<AppEnv>, work: Promise<T>): Promise<T> {
  c.executionCtx.waitUntil(work.catch(() => undefined))
  return work
}

/** Commits the write-ahead row, forwards (never retried), settles the row, answers with upstream's response. */
async function forwardAndSettle(
  c: Context<AppEnv>,
  call: AuditedCall,
  start: AuditStart,
  before: Snapshot | null
): Promise<Response> {
  const config = forwardingConfig(c)
  const pending = await writeAhead(c.var.db, { ...start, before }, c.var.idempotencyClaim)
  const eventId = pending.id

  const streamed = call.upstream.headers?.accept === STREAM
  let response: UpstreamResponse
  try {
    const opened = streamed ? await openExa(config, call.upstream) : undefined
    if (opened && isSuccess(opened.status) && isEventStream(opened) && opened.body)
      return streamAndSettle(c, call, pending, before, opened)
    response = opened ? await readUpstream(opened) : await callExa(config, call.upstream)
  } catch (err) {
    // Exa may or may not have applied it: the row stays pending until its state is read back.
    settleInBackground(c, eventId, err instanceof ApiError ? err.message : 'upstream call failed')
    throw err
  }
  const succeeded = isSuccess(response.status)
  const answer =
    succeeded && call.after !== 'read' ? (call.answer ?? call.resource.snapshot).safeParse(response.json) : undefined
  if (answer && !answer.success) {
    settleInBackground(
      c,
      eventId,
      `Exa answered the ${call.upstream.method} with something that is not ${call.resource.noun}`
    )
    throw malformed(call.resource)
  }
  const finishedAt = Date.now()
  const outcome = (after: Snapshot | null) =>
    settledFields(
      call.resource.type,
      before,
      {
        status: response.status,
        upstreamRequestId: response.requestId,
        after,
        error: succeeded ? null : `Exa answered ${response.status}`,
      },
      finishedAt
    )
  // A create learns its resource id only now; the settle writes it with the outcome.
  const learned = call.resourceId === null && answer?.success ? (answer.data as { id: string }).id : null
  const ids =
    learned === null ? {} : { resourceId: learned, importId: call.resource.type === 'import' ? learned : null }
  settleAfterResponse(c, pending, async () => {
    if (succeeded && call.after === 'read') return outcome(await readAfter(c, call, start))
    // Upstream's object as it came (key order included); the schema only vouched for it.
    const after = answer?.success && call.after !== 'read' ? call.after(response.json as Snapshot) : null
    return { ...outcome(after), ...ids }
  })
  return relay(c, response)
}

/** The one format a streamed create asks Exa for (exa-js `agent.runs.create({stream: true})`). */
export const STREAM = 'text/event-stream'

/**
 * A create Exa answers as a stream of the resource's states (an agent run's SSE events, each
 * `data:` the run as it is then): passed through to the client as it arrives, while a copy is
 * read to its end for the row. The row is settled with the last state the stream carried, the
 * resource's id learned from it; a stream that carried none leaves the row to the reconciler.
 * The copy is read under `waitUntil`, so a client going away does not stop the row's settle.
 */
function streamAndSettle(
  c: Context<AppEnv>,
  call: AuditedCall,
  pending: AuditEventRow,
  before: Snapshot | null,
  opened: Response
): Promise<Response> {
  const [toClient, toRow] = opened.body!.tee()
  // The row's finish is the stream's end.
  const ended = lastState(toRow, call.resource).then((state) => ({ state, at: Date.now() }))
  const outcome = { status: opened.status, upstreamRequestId: opened.headers.get('x-request-id') }
  settleAfterResponse(c, pending, async () => {
    const { state, at } = await ended
    if (!state) throw new Error('the stream carried no state of the resource')
    const after = call.after === 'read' ? state : call.after(state)
    return { ...settledFields(call.resource.type, before, { ...outcome, after }, at), resourceId: String(state.id) }
  })
  return relayStream(c, new Response(toClient, opened))
}

/** The last event `data:` of an SSE stream that is the resource (undefined when none was). */
async function lastState(stream: ReadableStream<Uint8Array>, resource: Resource): Promise<Snapshot | undefined> {
  let last: Snapshot | undefined
  let buffered = ''
  const take = (event: string) => {
    const data = event
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n')
    try {
      const state = JSON.parse(data) as Snapshot
      if (resource.snapshot.safeParse(state).success) last = state
    } catch {
      // not JSON: not a state
    }
  }
  const decoder = new TextDecoder()
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    const events = (buffered + decoder.decode(chunk, { stream: true })).replace(/\r\n?/g, '\n').split('\n\n')
    buffered = events.pop()!
    events.forEach(take)
  }
  take(buffered)
  return last
}

/**
 * The after of a change Exa answers without the resource: read back once the response is sent.
 * A read that fails throws, so the settle is retried, and in the end left to the reconciler.
 */
async function readAfter(c: Context<AppEnv>, call: AuditedCall, start: AuditStart): Promise<Snapshot> {
  const id = start.resourceId!
  const response = await callExa(upstreamConfig(c), readOf(call.resource, id, start.parentId ?? null))
  if (!isSuccess(response.status) || !call.resource.snapshot.safeParse(response.json).success)
    throw malformed(call.resource)
  return call.resource.kept(response.json as Snapshot)
}

/** Reads the resource before changing it. A failed read is recorded as a failed attempt. */
async function readBefore(
  c: Context<AppEnv>,
  resource: Resource,
  id: string,
  parent: string | null,
  start: AuditStart
): Promise<Snapshot | Response> {
  const fail = (status: number | null, error: string, upstreamRequestId?: string | null) =>
    recordFailedAttempt(c.var.db, start, { status, error, upstreamRequestId }).catch(() =>
      console.error(JSON.stringify({ level: 'error', requestId: start.requestId, msg: 'failed attempt not recorded' }))
    )
  let response: UpstreamResponse
  try {
    response = await readExaWithOneRetry(c, readOf(resource, id, parent))
  } catch (err) {
    await fail(null, `before read: ${err instanceof ApiError ? err.message : 'failed'}`)
    throw err
  }
  if (!isSuccess(response.status)) {
    await fail(response.status, `before read: Exa answered ${response.status}`, response.requestId)
    return relay(c, response)
  }
  const parsed = resource.snapshot.safeParse(response.json)
  if (!parsed.success) {
    const error = `before read: Exa answered with something that is not ${resource.noun}`
    await fail(response.status, error, response.requestId)
    throw malformed(resource)
  }
  // Keep upstream's object as it came (key order included); the schema only vouched for it.
  return response.json as Snapshot
}

type SettledFields = ReturnType<typeof settledFields> & { resourceId?: string | null; importId?: string | null }

const SETTLE_RETRY_DELAYS_MS = [100, 400, 1600]

/**
 * Settles the row after the response (docs/architecture.md §5): the write-ahead row with its before
 * snapshot is already committed, so the client need not wait for the settle's D1 round trips;
 * the API shows the row `pending` until it lands. An applied update or revert is sealed in Exa's
 * order (audit/order.ts); any other row at once, which may let rows of its resource that waited on
 * it be sealed. A failed settle is retried a few times; if every retry fails the reconciler
 * settles the row later. A create's resource id, known only from Exa's answer, is set by the same settle.
 */
function settleAfterResponse(c: Context<AppEnv>, pending: AuditEventRow, settled: () => Promise<SettledFields>) {
  const db = c.var.db
  const settle = async () => {
    const fields = await settled()
    if (fields.outcome === 'succeeded' && isOrdered(pending, fields.after)) return settleInOrder(db, pending, fields)
    await settlePending(db, pending.id, fields, pending)
    const resource = resourceOf(pending)
    if (resource) await sealResource(db, resource)
  }
  c.executionCtx.waitUntil(
    (async () => {
      for (const delay of [0, ...SETTLE_RETRY_DELAYS_MS]) {
        if (delay) await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())))
        try {
          return await settle()
        } catch {
          // next attempt
        }
      }
      console.error(
        JSON.stringify({ level: 'error', eventId: pending.id, msg: 'settle failed; left pending for the reconciler' })
      )
    })()
  )
}
