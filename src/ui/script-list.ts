/**
 * The viewer's script, part 2: the event list and the detail (before and after side by side,
 * changed fields highlighted). Same rules as part 1: text only, never markup.
 */
export const LIST_PART = String.raw`
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
`
