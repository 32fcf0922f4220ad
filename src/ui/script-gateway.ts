/**
 * The viewer's script, part 1: state, DOM helpers and the calls to the gateway's audit API.
 * Plain browser JavaScript in a string (served as /ui/app.js; the worker has no DOM types and
 * we keep no front-end build). Rules: data goes into the page only through textContent (the CSP's
 * Trusted Types would make innerHTML throw anyway); the key lives only in sessionStorage and
 * travels only in x-api-key, to this page's own origin.
 */
export const GATEWAY_PART = String.raw`
const KEY_STORAGE = 'egw-audit-viewer-key'
const PAGE_SIZE = '25'
const $ = (id) => document.getElementById(id)
const state = { key: null, session: null, filters: {}, cursor: null, events: [], selected: null, reverting: null, loads: 0, checks: 0 }

/** An element holding text only. */
function el(tag, text, className) {
  const node = document.createElement(tag)
  if (text !== undefined && text !== null) node.textContent = String(text)
  if (className) node.className = className
  return node
}

/** Shows a message element with text, or hides it when there is none. */
function say(node, text) {
  node.textContent = text || ''
  node.hidden = !text
}

class GatewayError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

/** A sentence a person can act on, from the gateway's error body ({error, tag, requestId}). */
function explain(status, body, headers) {
  const said = body && typeof body.error === 'string' ? body.error : ''
  const ref = body && typeof body.requestId === 'string' ? ' (request ' + body.requestId + ')' : ''
  if (status === 401) return 'The gateway did not accept this key: ' + (said || 'unknown, revoked or expired') + '.'
  if (status === 403) return 'Not allowed: ' + (said || 'this key lacks a scope') + '. Ask an admin for a key with that scope.'
  if (status === 429) return 'Too many requests with this key: try again in ' + (headers.get('retry-after') || 'a few') + ' s.'
  return (said || 'The gateway answered HTTP ' + status) + ref
}

/** One call to the gateway, on this origin, with the key; a 401 signs the page out. */
async function call(path, method) {
  let res
  try {
    res = await fetch(path, { method: method || 'GET', headers: { 'x-api-key': state.key }, credentials: 'omit', cache: 'no-store', redirect: 'error' })
  } catch (err) {
    throw new GatewayError(0, 'The gateway could not be reached. Check that it is running and that you are online, then try again.')
  }
  if (res.ok) return res
  let body = null
  try { body = await res.json() } catch (err) { body = null }
  const error = new GatewayError(res.status, explain(res.status, body, res.headers))
  if (res.status === 401) signOut(error.message)
  throw error
}

/** The applied filters (not what is half-typed in the form) plus extra parameters. */
function query(extra) {
  const params = new URLSearchParams(state.filters)
  for (const [name, value] of Object.entries(extra)) if (value) params.set(name, value)
  const text = params.toString()
  return text ? '?' + text : ''
}

function readFilters() {
  const filters = {}
  for (const [name, raw] of new FormData($('filters')).entries()) {
    const value = String(raw).trim()
    if (!value) continue
    const time = (name === 'since' || name === 'until') ? new Date(value) : null
    // datetime-local is local time; the API wants ISO 8601 (an invalid one gets its 400).
    filters[name] = time && !isNaN(time.getTime()) ? time.toISOString() : value
  }
  return filters
}

async function signIn(key) {
  state.key = key
  const session = await (await call('/ui/session')).json()
  state.session = session
  sessionStorage.setItem(KEY_STORAGE, key)
  $('who').textContent = session.actor + ' · ' + session.scopes.join(', ')
  say($('key-error'), '')
  $('key').value = ''
  $('login').hidden = true
  $('session').hidden = false
  $('viewer').hidden = false
  $('f-importId').focus()
  await Promise.all([loadEvents(false), verifyChain()])
}

function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE)
  // Counting a load and a check drops any answer still on its way for the old key.
  Object.assign(state, { key: null, session: null, events: [], cursor: null, selected: null, loads: state.loads + 1, checks: state.checks + 1 })
  $('events').tBodies[0].replaceChildren()
  $('detail').hidden = true
  $('viewer').hidden = true
  $('session').hidden = true
  $('login').hidden = false
  say($('key-error'), message)
  $('key').focus()
}

/** Loads the first page (or the next one). Only the latest load paints: a slower, older one is dropped. */
async function loadEvents(append) {
  const load = ++state.loads
  say($('list-error'), '')
  $('more').disabled = true
  try {
    const page = await (await call('/audit/events' + query({ limit: PAGE_SIZE, cursor: append ? state.cursor : '' }))).json()
    if (load !== state.loads) return
    state.events = append ? state.events.concat(page.data) : page.data
    state.cursor = page.nextCursor
    renderList(page.data, append)
  } catch (err) {
    if (load !== state.loads) return
    if (!append) {
      Object.assign(state, { events: [], cursor: null })
      renderList([], false)
      $('empty').hidden = true
    }
    if (err.status !== 401) say($('list-error'), err.message)
  } finally {
    $('more').disabled = false
  }
}

async function verifyChain() {
  const check = ++state.checks
  const badge = $('chain')
  badge.className = 'badge'
  badge.textContent = 'Checking the audit chain…'
  try {
    const result = await (await call('/audit/verify')).json()
    if (check !== state.checks) return
    badge.className = 'badge ' + (result.ok ? 'ok' : 'bad')
    badge.textContent = result.ok
      ? 'Audit chain intact · ' + result.checked + ' sealed rows'
      : 'Audit chain broken at #' + (result.firstBrokenSeq ?? '?') + ': ' + result.reason
    badge.title = result.head ? 'head #' + result.head.seq + ' ' + result.head.chainHash : ''
  } catch (err) {
    if (check !== state.checks) return
    badge.className = 'badge bad'
    badge.textContent = 'Audit chain not verified: ' + err.message
  }
}

/** Downloads the export of the applied filters (fetched with the key, saved from a blob URL). */
async function exportAs(format) {
  say($('list-error'), '')
  try {
    const res = await call('/audit/export' + query({ format }))
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') || '')
    const link = el('a')
    link.href = URL.createObjectURL(await res.blob())
    link.download = name ? name[1] : 'audit.' + format
    document.body.append(link)
    link.click()
    link.remove()
    setTimeout(() => URL.revokeObjectURL(link.href), 60000)
  } catch (err) {
    if (err.status !== 401) say($('list-error'), err.message)
  }
}
`
