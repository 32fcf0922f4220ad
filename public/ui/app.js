
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


const OUTCOMES = ['succeeded', 'failed', 'pending']
const pill = (outcome) => el('span', outcome, 'pill ' + (OUTCOMES.includes(outcome) ? outcome : ''))
const pad = (n) => String(n).padStart(2, '0')

/** Local time, to the second; the ISO time is the element's tooltip. */
function when(iso) {
  if (!iso) return '—'
  const d = new Date(iso)
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds())
}

function renderList(rows, append) {
  const body = $('events').tBodies[0]
  if (!append) body.replaceChildren()
  for (const event of rows) body.append(eventRow(event))
  const n = state.events.length
  $('events').hidden = n === 0
  $('empty').hidden = n > 0
  $('more').hidden = !state.cursor
  const noun = n === 1 ? '1 event' : n + ' events'
  $('count').textContent = n === 0 ? '' : state.cursor ? 'Showing ' + noun + ', newest first · more match' : noun + ' match, newest first'
}

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
  row.append(first, el('td', event.action, 'mono'), el('td', event.importId || '—', 'mono'), el('td', event.actor), outcome, el('td', changed || '—', 'mono'))
  row.addEventListener('click', (e) => { if (e.target.tagName !== 'BUTTON') openDetail(event) })
  return row
}

function closeDetail() {
  $('detail').hidden = true
  state.selected = null
  for (const row of $('events').tBodies[0].rows) row.classList.remove('selected')
}

/** An import's editable fields (title, metadata.<key>); a key's fields as they are. */
function fieldsOf(event, snapshot) {
  const fields = new Map()
  if (!snapshot || typeof snapshot !== 'object') return fields
  if (!event.action.startsWith('import.')) {
    for (const name of Object.keys(snapshot).sort()) fields.set(name, snapshot[name])
    return fields
  }
  fields.set('title', snapshot.title)
  const metadata = snapshot.metadata && typeof snapshot.metadata === 'object' ? snapshot.metadata : {}
  for (const name of Object.keys(metadata).sort()) fields.set('metadata.' + name, metadata[name])
  return fields
}

const shown = (value) => (typeof value === 'string' ? value : JSON.stringify(value))

function valueCell(snapshot, fields, name, side) {
  if (!snapshot) return el('td', side === 'old' ? 'no snapshot' : 'none recorded', side + ' none')
  const value = fields.get(name)
  return value === undefined || value === null ? el('td', '(absent)', side + ' none') : el('td', shown(value), side)
}

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
    const differs = changed.has(name) || (event.before && event.after && shown(before.get(name)) !== shown(after.get(name)))
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

function facts(event) {
  const list = el('dl', null, 'facts')
  const add = (name, value) => { if (value !== null && value !== undefined && value !== '') list.append(el('dt', name), el('dd', value)) }
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

function openDetail(event) {
  state.selected = event.id
  for (const row of $('events').tBodies[0].rows) row.classList.toggle('selected', row.dataset.id === event.id)
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


const REVERTIBLE = ['import.update', 'import.revert']

function revertControls(event) {
  const box = el('div', null, 'revert')
  if (!REVERTIBLE.includes(event.action) || event.outcome !== 'succeeded' || !event.before) return box
  if (!state.session.scopes.includes('imports:write')) {
    box.append(el('p', 'Reverting needs a key that also has imports:write.', 'hint'))
    return box
  }
  const button = el('button', 'Revert this change…', 'danger')
  button.type = 'button'
  button.addEventListener('click', () => askRevert(event))
  box.append(button)
  return box
}

/** The confirmation names what will change: each changed field, from now back to before. */
function askRevert(event) {
  state.reverting = event
  $('confirm-text').textContent = 'Import ' + event.importId + ' goes back to how it was before ' + event.actor + "'s change of " + when(event.startedAt) + '. The revert is audited as a new event.'
  const rows = (event.changes || []).map((change) => {
    const row = el('tr')
    row.append(el('th', change.path), el('td', change.to === null ? '(absent)' : shown(change.to), 'old'), el('td', change.from === null ? '(absent)' : shown(change.from), 'new'))
    return row
  })
  $('confirm-changes').replaceChildren(...rows)
  say($('confirm-error'), '')
  $('confirm-force').hidden = true
  $('confirm-ok').hidden = false
  $('confirm').showModal()
  $('confirm-cancel').focus()
}

async function revert(force) {
  const event = state.reverting
  const buttons = [$('confirm-ok'), $('confirm-force')]
  for (const button of buttons) button.disabled = true
  try {
    const done = await (await call('/audit/events/' + encodeURIComponent(event.id) + '/revert' + (force ? '?force=true' : ''), 'POST')).json()
    $('confirm').close()
    say($('notice'), 'Reverted ' + event.importId + ': its title is “' + done.title + '” again. The revert is the newest event.')
    await Promise.all([loadEvents(false), verifyChain()])
  } catch (err) {
    if (err.status === 401) return $('confirm').close()
    say($('confirm-error'), (err.status === 409 ? 'Not reverted. ' : '') + err.message)
    // The API's 409 for a later change suggests force; offer it as a deliberate second step.
    const forceable = err.status === 409 && /force=true/.test(err.message)
    $('confirm-force').hidden = !forceable
    $('confirm-ok').hidden = forceable
  } finally {
    for (const button of buttons) button.disabled = false
  }
}

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault()
  const key = $('key').value.trim()
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
  $('filters').reset()
  state.filters = {}
  loadEvents(false)
})
$('more').addEventListener('click', () => loadEvents(true))
$('export-ndjson').addEventListener('click', () => exportAs('ndjson'))
$('export-csv').addEventListener('click', () => exportAs('csv'))
$('forget').addEventListener('click', () => signOut(''))
$('confirm-cancel').addEventListener('click', () => $('confirm').close())
$('confirm-ok').addEventListener('click', () => revert(false))
$('confirm-force').addEventListener('click', () => revert(true))

const saved = sessionStorage.getItem(KEY_STORAGE)
if (saved) signIn(saved).catch((err) => { if (err.status !== 401) say($('key-error'), err.message) })
else $('key').focus()
