// @ts-check

/**
 * What GET /ui/session answers: who the key is and what it may do, and the server's lists the page
 * offers (it keeps no copies of its own).
 * @typedef {object} Session
 * @property {string} keyId
 * @property {string} actor
 * @property {string[]} scopes
 * @property {string[]} actions every value of the events' `action` filter, in display order
 * @property {string[]} outcomes every value of the events' `outcome` filter
 * @property {string[]} revertibleActions the actions whose events a revert accepts
 */

/**
 * One changed field of an event: `title` or `metadata.<key>`, null for an absent side.
 * @typedef {object} Change
 * @property {string} path
 * @property {unknown} from
 * @property {unknown} to
 */

/**
 * A snapshot of what an event changed (an import, or a key as the admin API shows it), as JSON.
 * @typedef {Record<string, unknown>} Snapshot
 */

/**
 * An audit event as GET /audit/events shows it (times in ISO 8601, null when unknown).
 * @typedef {object} AuditEvent
 * @property {string} id
 * @property {string} action
 * @property {string | null} importId
 * @property {string} outcome
 * @property {string | null} keyId
 * @property {string} actor
 * @property {string | null} subjectKeyId
 * @property {string | null} revertsEventId
 * @property {string | null} origin
 * @property {string | null} ip
 * @property {string | null} userAgent
 * @property {string | null} requestId
 * @property {string | null} upstreamRequestId
 * @property {string | null} idempotencyKey
 * @property {unknown} requestBody
 * @property {Snapshot | null} before
 * @property {Snapshot | null} after
 * @property {Change[]} changes
 * @property {number | null} upstreamStatus
 * @property {string | null} error
 * @property {boolean} reconciled
 * @property {string | null} startedAt
 * @property {string | null} finishedAt
 */

/**
 * One page of GET /audit/events, newest first; `nextCursor` continues it.
 * @typedef {object} EventPage
 * @property {AuditEvent[]} data
 * @property {boolean} hasMore
 * @property {string | null} nextCursor
 */

/**
 * What GET /audit/verify answers about the audit chain.
 * @typedef {object} Verification
 * @property {boolean} ok
 * @property {number} checked
 * @property {{ seq: number, chainHash: string } | null} head
 * @property {number | null} [firstBrokenSeq]
 * @property {string} [reason]
 */

/**
 * The body of the gateway's error answers.
 * @typedef {object} ErrorBody
 * @property {string} error
 * @property {string} tag
 * @property {string} requestId
 * @property {{ path: string, message: string }[]} [issues]
 * @property {string[]} [changed] a revert's 409: the fields changed since the event
 * @property {boolean} [forceable] a revert's 409: true when `?force=true` would overwrite those changes
 */

/**
 * What a `catch` here gets: a GatewayError, or another Error (the browser's: no status).
 * @typedef {Error & Partial<Pick<GatewayError, 'status' | 'body'>>} Failure
 */

/**
 * The page's state. `key` is null while signed out; `loads` and `checks` count requests so that
 * only the latest one paints.
 * @typedef {object} State
 * @property {string | null} key
 * @property {Session | null} session
 * @property {Record<string, string>} filters
 * @property {string | null} cursor
 * @property {AuditEvent[]} events
 * @property {string | null} selected
 * @property {AuditEvent | null} reverting
 * @property {number} loads
 * @property {number} checks
 */

const KEY_STORAGE = 'egw-audit-viewer-key'
const PAGE_SIZE = '25'
/**
 * An element of index.html, by id (the page's own ids are always there); callers cast it to its
 * element type where they need more than an HTMLElement.
 * @param {string} id
 * @returns {HTMLElement}
 */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))
/** @type {State} */
const state = {
  key: null,
  session: null,
  filters: {},
  cursor: null,
  events: [],
  selected: null,
  reverting: null,
  loads: 0,
  checks: 0,
}

/**
 * An element holding text only.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string | number | null} [text]
 * @param {string} [className]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, text, className) {
  const node = document.createElement(tag)
  if (text !== undefined && text !== null) node.textContent = String(text)
  if (className) node.className = className
  return node
}

/**
 * Shows a message element with text, or hides it when there is none.
 * @param {HTMLElement} node
 * @param {string} text
 */
function say(node, text) {
  node.textContent = text || ''
  node.hidden = !text
}

class GatewayError extends Error {
  /**
   * @param {number} status the HTTP status, 0 when the gateway could not be reached
   * @param {string} message
   * @param {ErrorBody | null} [body] the answer's JSON, when it had some
   */
  constructor(status, message, body) {
    super(message)
    this.status = status
    this.body = body ?? null
  }
}

/**
 * A sentence a person can act on, from the gateway's error body ({error, tag, requestId}).
 * @param {number} status
 * @param {ErrorBody | null} body the answer's JSON, when it had some
 * @param {Headers} headers
 * @returns {string}
 */
function explain(status, body, headers) {
  const said = body && typeof body.error === 'string' ? body.error : ''
  const ref = body && typeof body.requestId === 'string' ? ' (request ' + body.requestId + ')' : ''
  if (status === 401) return 'The gateway did not accept this key: ' + (said || 'unknown, revoked or expired') + '.'
  if (status === 403)
    return 'Not allowed: ' + (said || 'this key lacks a scope') + '. Ask an admin for a key with that scope.'
  if (status === 429)
    return 'Too many requests with this key: try again in ' + (headers.get('retry-after') || 'a few') + ' s.'
  return (said || 'The gateway answered HTTP ' + status) + ref
}

/**
 * One call to the gateway, on this origin, with the key; a 401 signs the page out.
 * @param {string} path
 * @param {'GET' | 'POST'} [method]
 * @returns {Promise<Response>} an answer that is ok; anything else is thrown as a GatewayError
 */
async function call(path, method) {
  let res
  try {
    res = await fetch(path, {
      method: method || 'GET',
      headers: { 'x-api-key': /** @type {string} */ (state.key) },
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
    })
  } catch {
    throw new GatewayError(
      0,
      'The gateway could not be reached. Check that it is running and that you are online, then try again.'
    )
  }
  if (res.ok) return res
  /** @type {ErrorBody | null} */
  let body
  try {
    body = await res.json()
  } catch {
    body = null
  }
  const error = new GatewayError(res.status, explain(res.status, body, res.headers), body)
  if (res.status === 401) signOut(error.message)
  throw error
}

/**
 * The applied filters (not what is half-typed in the form) plus extra parameters.
 * @param {Record<string, string | null>} extra parameters; an empty or null one is left out
 * @returns {string} `?…`, or '' when there is none
 */
function query(extra) {
  const params = new URLSearchParams(state.filters)
  for (const [name, value] of Object.entries(extra)) if (value) params.set(name, value)
  const text = params.toString()
  return text ? '?' + text : ''
}

/** @returns {Record<string, string>} the filters in the form, as the API's parameters */
function readFilters() {
  /** @type {Record<string, string>} */
  const filters = {}
  for (const [name, raw] of new FormData(/** @type {HTMLFormElement} */ ($('filters'))).entries()) {
    const value = String(raw).trim()
    if (!value) continue
    const time = name === 'since' || name === 'until' ? new Date(value) : null
    // datetime-local is local time; the API wants ISO 8601 (an invalid one gets its 400).
    filters[name] = time && !isNaN(time.getTime()) ? time.toISOString() : value
  }
  return filters
}

/**
 * Fills a filter's select with the values the API accepts, after its "any" (the one option in the
 * HTML); what was chosen stays chosen if it is still among them.
 * @param {string} id
 * @param {string[]} values
 */
function offer(id, values) {
  const select = /** @type {HTMLSelectElement} */ ($(id))
  const chosen = select.value
  select.replaceChildren(select.options[0], ...values.map((value) => new Option(value, value)))
  select.value = values.includes(chosen) ? chosen : ''
}

/** @param {string} key */
async function signIn(key) {
  state.key = key
  /** @type {Session} */
  const session = await (await call('/ui/session')).json()
  state.session = session
  offer('f-action', session.actions)
  offer('f-outcome', session.outcomes)
  sessionStorage.setItem(KEY_STORAGE, key)
  $('who').textContent = session.actor + ' · ' + session.scopes.join(', ')
  say($('key-error'), '')
  const field = /** @type {HTMLInputElement} */ ($('key'))
  field.value = ''
  $('login').hidden = true
  $('session').hidden = false
  $('viewer').hidden = false
  $('f-importId').focus()
  await Promise.all([loadEvents(false), verifyChain()])
}

/** @param {string} message why, shown under the key field ('' for none) */
function signOut(message) {
  sessionStorage.removeItem(KEY_STORAGE)
  // Counting a load and a check drops any answer still on its way for the old key.
  Object.assign(state, {
    key: null,
    session: null,
    events: [],
    cursor: null,
    selected: null,
    loads: state.loads + 1,
    checks: state.checks + 1,
  })
  const table = /** @type {HTMLTableElement} */ ($('events'))
  table.tBodies[0].replaceChildren()
  $('detail').hidden = true
  $('viewer').hidden = true
  $('session').hidden = true
  $('login').hidden = false
  say($('key-error'), message)
  $('key').focus()
}

/**
 * Loads the first page (or the next one). Only the latest load paints: a slower, older one is dropped.
 * @param {boolean} append true for the next page, false for the first
 */
async function loadEvents(append) {
  const load = ++state.loads
  const more = /** @type {HTMLButtonElement} */ ($('more'))
  say($('list-error'), '')
  more.disabled = true
  try {
    /** @type {EventPage} */
    const page = await (
      await call('/audit/events' + query({ limit: PAGE_SIZE, cursor: append ? state.cursor : '' }))
    ).json()
    if (load !== state.loads) return
    state.events = append ? state.events.concat(page.data) : page.data
    state.cursor = page.nextCursor
    renderList(page.data, append)
  } catch (caught) {
    const err = /** @type {Failure} */ (caught)
    if (load !== state.loads) return
    if (!append) {
      Object.assign(state, { events: [], cursor: null })
      renderList([], false)
      $('empty').hidden = true
    }
    if (err.status !== 401) say($('list-error'), err.message)
  } finally {
    more.disabled = false
  }
}

async function verifyChain() {
  const check = ++state.checks
  const badge = $('chain')
  badge.className = 'badge'
  badge.textContent = 'Checking the audit chain…'
  try {
    /** @type {Verification} */
    const result = await (await call('/audit/verify')).json()
    if (check !== state.checks) return
    badge.className = 'badge ' + (result.ok ? 'ok' : 'bad')
    badge.textContent = result.ok
      ? 'Audit chain intact · ' + result.checked + ' sealed rows'
      : 'Audit chain broken at #' + (result.firstBrokenSeq ?? '?') + ': ' + result.reason
    badge.title = result.head ? 'head #' + result.head.seq + ' ' + result.head.chainHash : ''
  } catch (caught) {
    const err = /** @type {Failure} */ (caught)
    if (check !== state.checks) return
    badge.className = 'badge bad'
    badge.textContent = 'Audit chain not verified: ' + err.message
  }
}

/**
 * Downloads the export of the applied filters (fetched with the key, saved from a blob URL).
 * @param {'ndjson' | 'csv'} format
 */
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
  } catch (caught) {
    const err = /** @type {Failure} */ (caught)
    if (err.status !== 401) say($('list-error'), err.message)
  }
}

/** The signed-in key's session: events are listed, shown and reverted only while there is one. */
const signedIn = () => /** @type {Session} */ (state.session)
/** @param {string} outcome */
const pill = (outcome) => el('span', outcome, 'pill ' + (signedIn().outcomes.includes(outcome) ? outcome : ''))
/** @param {number} n */
const pad = (n) => String(n).padStart(2, '0')

/**
 * Local time, to the second; the ISO time is the element's tooltip.
 * @param {string | null} iso
 * @returns {string}
 */
function when(iso) {
  if (!iso) return '—'
  const d = new Date(iso)
  return (
    d.getFullYear() +
    '-' +
    pad(d.getMonth() + 1) +
    '-' +
    pad(d.getDate()) +
    ' ' +
    pad(d.getHours()) +
    ':' +
    pad(d.getMinutes()) +
    ':' +
    pad(d.getSeconds())
  )
}

/**
 * Paints the list: these rows after the ones shown (append), or instead of them.
 * @param {AuditEvent[]} rows
 * @param {boolean} append
 */
function renderList(rows, append) {
  const table = /** @type {HTMLTableElement} */ ($('events'))
  const body = table.tBodies[0]
  if (!append) body.replaceChildren()
  for (const event of rows) body.append(eventRow(event))
  const n = state.events.length
  table.hidden = n === 0
  $('empty').hidden = n > 0
  $('more').hidden = !state.cursor
  const noun = n === 1 ? '1 event' : n + ' events'
  $('count').textContent =
    n === 0 ? '' : state.cursor ? 'Showing ' + noun + ', newest first · more match' : noun + ' match, newest first'
}

/**
 * @param {AuditEvent} event
 * @returns {HTMLTableRowElement}
 */
function eventRow(event) {
  const row = el('tr')
  row.dataset.id = event.id
  row.classList.toggle('selected', state.selected === event.id)
  const open = el('button', when(event.startedAt), 'link')
  open.type = 'button'
  open.title = event.startedAt || ''
  open.setAttribute('aria-label', 'Show ' + event.action + ' of ' + when(event.startedAt))
  open.addEventListener('click', () => openDetail(event))
  const first = el('td')
  first.append(open)
  const outcome = el('td')
  outcome.append(pill(event.outcome))
  const changed = (event.changes || []).map((change) => change.path).join(', ')
  row.append(
    first,
    el('td', event.action, 'mono'),
    el('td', event.importId || '—', 'mono'),
    el('td', event.actor),
    outcome,
    el('td', changed || '—', 'mono')
  )
  row.addEventListener('click', (e) => {
    if (/** @type {Element} */ (e.target).tagName !== 'BUTTON') openDetail(event)
  })
  return row
}

function closeDetail() {
  $('detail').hidden = true
  state.selected = null
  for (const row of /** @type {HTMLTableElement} */ ($('events')).tBodies[0].rows) row.classList.remove('selected')
}

/**
 * An import's editable fields (title, metadata.<key>); a key's fields as they are.
 * @param {AuditEvent} event
 * @param {Snapshot | null} snapshot
 * @returns {Map<string, unknown>}
 */
function fieldsOf(event, snapshot) {
  /** @type {Map<string, unknown>} */
  const fields = new Map()
  if (!snapshot || typeof snapshot !== 'object') return fields
  if (!event.action.startsWith('import.')) {
    for (const name of Object.keys(snapshot).sort()) fields.set(name, snapshot[name])
    return fields
  }
  fields.set('title', snapshot.title)
  const metadata = /** @type {Record<string, unknown>} */ (
    snapshot.metadata && typeof snapshot.metadata === 'object' ? snapshot.metadata : {}
  )
  for (const name of Object.keys(metadata).sort()) fields.set('metadata.' + name, metadata[name])
  return fields
}

/**
 * @param {unknown} value
 * @returns {string}
 */
const shown = (value) => (typeof value === 'string' ? value : JSON.stringify(value))

/**
 * @param {Snapshot | null} snapshot
 * @param {Map<string, unknown>} fields the snapshot's, from fieldsOf
 * @param {string} name
 * @param {'old' | 'new'} side
 * @returns {HTMLTableCellElement}
 */
function valueCell(snapshot, fields, name, side) {
  if (!snapshot) return el('td', side === 'old' ? 'no snapshot' : 'none recorded', side + ' none')
  const value = fields.get(name)
  return value === undefined || value === null ? el('td', '(absent)', side + ' none') : el('td', shown(value), side)
}

/**
 * @param {AuditEvent} event
 * @returns {HTMLTableElement}
 */
function diffTable(event) {
  const before = fieldsOf(event, event.before)
  const after = fieldsOf(event, event.after)
  const changed = new Set((event.changes || []).map((change) => change.path))
  const table = el('table', null, 'diff')
  table.append(el('caption', 'Before and after (changed fields highlighted)'))
  const head = el('tr')
  head.append(el('th', 'Field'), el('th', 'Before'), el('th', 'After'))
  const body = el('tbody')
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const differs =
      changed.has(name) || (event.before && event.after && shown(before.get(name)) !== shown(after.get(name)))
    const row = el('tr', null, differs ? 'changed' : '')
    const field = el('th', name)
    field.scope = 'row'
    if (differs) field.append(el('span', 'changed', 'tag'))
    row.append(field, valueCell(event.before, before, name, 'old'), valueCell(event.after, after, name, 'new'))
    body.append(row)
  }
  if (!body.rows.length) body.insertRow().append(el('td', 'No snapshots recorded for this event.', 'none'))
  table.createTHead().append(head)
  table.append(body)
  return table
}

/**
 * @param {AuditEvent} event
 * @returns {HTMLDListElement}
 */
function facts(event) {
  const list = el('dl', null, 'facts')
  /**
   * @param {string} name
   * @param {string | number | null} value left out when there is none
   */
  const add = (name, value) => {
    if (value !== null && value !== undefined && value !== '') list.append(el('dt', name), el('dd', value))
  }
  add('Who', event.actor + (event.keyId ? ' (' + event.keyId + ')' : ''))
  add('When', when(event.startedAt) + (event.finishedAt ? ' → ' + when(event.finishedAt) : ' (not settled yet)'))
  add('Outcome', event.outcome + (event.reconciled ? ' (settled by the reconciler)' : ''))
  add('Upstream status', event.upstreamStatus)
  add('Error', event.error)
  add('Origin', event.origin || '(none: not from a browser)')
  add('IP', event.ip)
  add('User agent', event.userAgent)
  add('Request id', event.requestId)
  add('Exa request id', event.upstreamRequestId)
  add('Idempotency key', event.idempotencyKey)
  add('Subject key', event.subjectKeyId)
  add('Reverts event', event.revertsEventId)
  add('Event id', event.id)
  return list
}

/** @param {AuditEvent} event */
function openDetail(event) {
  state.selected = event.id
  for (const row of /** @type {HTMLTableElement} */ ($('events')).tBodies[0].rows)
    row.classList.toggle('selected', row.dataset.id === event.id)
  const pane = $('detail')
  const head = el('div', null, 'detail-head')
  const title = el('h2', event.action + (event.importId ? ' · ' + event.importId : ''))
  title.id = 'detail-title'
  const close = el('button', 'Close', 'quiet')
  close.type = 'button'
  close.addEventListener('click', () => closeDetail())
  head.append(title, pill(event.outcome), close)
  pane.replaceChildren(head, facts(event), diffTable(event), revertControls(event))
  pane.hidden = false
  pane.focus()
}

/**
 * @param {AuditEvent} event
 * @returns {HTMLDivElement}
 */
function revertControls(event) {
  const session = signedIn()
  const box = el('div', null, 'revert')
  if (!session.revertibleActions.includes(event.action) || event.outcome !== 'succeeded' || !event.before) return box
  if (!session.scopes.includes('imports:write')) {
    box.append(el('p', 'Reverting needs a key that also has imports:write.', 'hint'))
    return box
  }
  const button = el('button', 'Revert this change…', 'danger')
  button.type = 'button'
  button.addEventListener('click', () => askRevert(event))
  box.append(button)
  return box
}

/**
 * The confirmation names what will change: each changed field, from now back to before.
 * @param {AuditEvent} event
 */
function askRevert(event) {
  state.reverting = event
  $('confirm-text').textContent =
    'Import ' +
    event.importId +
    ' goes back to how it was before ' +
    event.actor +
    "'s change of " +
    when(event.startedAt) +
    '. The revert is audited as a new event.'
  const rows = (event.changes || []).map((change) => {
    const row = el('tr')
    row.append(
      el('th', change.path),
      el('td', change.to === null ? '(absent)' : shown(change.to), 'old'),
      el('td', change.from === null ? '(absent)' : shown(change.from), 'new')
    )
    return row
  })
  $('confirm-changes').replaceChildren(...rows)
  say($('confirm-error'), '')
  $('confirm-force').hidden = true
  $('confirm-ok').hidden = false
  const dialog = /** @type {HTMLDialogElement} */ ($('confirm'))
  dialog.showModal()
  $('confirm-cancel').focus()
}

/** @param {boolean} force overwrite the changes made since the event */
async function revert(force) {
  const event = /** @type {AuditEvent} */ (state.reverting)
  const dialog = /** @type {HTMLDialogElement} */ ($('confirm'))
  const buttons = [
    /** @type {HTMLButtonElement} */ ($('confirm-ok')),
    /** @type {HTMLButtonElement} */ ($('confirm-force')),
  ]
  for (const button of buttons) button.disabled = true
  try {
    /** @type {{ title: string }} */
    const done = await (
      await call('/audit/events/' + encodeURIComponent(event.id) + '/revert' + (force ? '?force=true' : ''), 'POST')
    ).json()
    dialog.close()
    say(
      $('notice'),
      'Reverted ' + event.importId + ': its title is “' + done.title + '” again. The revert is the newest event.'
    )
    await Promise.all([loadEvents(false), verifyChain()])
  } catch (caught) {
    const err = /** @type {Failure} */ (caught)
    if (err.status === 401) return dialog.close()
    // The API's 409 for changes made since the event is forceable: offer force as a deliberate second step.
    const forceable = err.status === 409 && err.body?.forceable === true
    const changed = forceable && Array.isArray(err.body?.changed) ? err.body.changed : []
    say(
      $('confirm-error'),
      changed.length
        ? 'Not reverted: ' +
            changed.join(', ') +
            ' changed since this event. Overwrite the later changes, or cancel and revert the later events first.'
        : (err.status === 409 ? 'Not reverted. ' : '') + err.message
    )
    $('confirm-force').hidden = !forceable
    $('confirm-ok').hidden = forceable
  } finally {
    for (const button of buttons) button.disabled = false
  }
}

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const key = /** @type {HTMLInputElement} */ ($('key')).value.trim()
  if (!key) return say($('key-error'), 'Enter a gateway key (it starts with egw_).')
  signIn(key).catch((err) => {
    if (err.status === 401) return
    state.key = null
    say($('key-error'), err.message)
  })
})
$('filters').addEventListener('submit', (e) => {
  e.preventDefault()
  state.filters = readFilters()
  say($('notice'), '')
  loadEvents(false)
})
$('clear').addEventListener('click', () => {
  const form = /** @type {HTMLFormElement} */ ($('filters'))
  form.reset()
  state.filters = {}
  loadEvents(false)
})
$('more').addEventListener('click', () => loadEvents(true))
$('export-ndjson').addEventListener('click', () => exportAs('ndjson'))
$('export-csv').addEventListener('click', () => exportAs('csv'))
$('forget').addEventListener('click', () => signOut(''))
$('confirm-cancel').addEventListener('click', () => /** @type {HTMLDialogElement} */ ($('confirm')).close())
$('confirm-ok').addEventListener('click', () => revert(false))
$('confirm-force').addEventListener('click', () => revert(true))

const saved = sessionStorage.getItem(KEY_STORAGE)
if (saved)
  signIn(saved).catch((err) => {
    if (err.status !== 401) say($('key-error'), err.message)
  })
else $('key').focus()
