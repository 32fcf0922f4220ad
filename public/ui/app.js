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
 * @property {string | null} resourceType `import`, `webhook`, `key`… (null on rows an older worker wrote)
 * @property {string | null} resourceId
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
const AUDIT_SCOPE = 'audit:read'
/** The filters the URL may carry: the API's own parameter names. */
const FILTER_NAMES = [
  'importId',
  'resourceType',
  'resourceId',
  'actor',
  'keyId',
  'field',
  'action',
  'outcome',
  'since',
  'until',
]
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
 * A 403 in words that fit its cause: a missing scope, or a browser key (one that lists origins)
 * used here, where same-origin reads carry no Origin header.
 * @param {string} said the gateway's message
 * @returns {string}
 */
function forbidden(said) {
  if (/lacks the scope/.test(said)) return 'Not allowed: ' + said + '. Ask an admin for a key with that scope.'
  if (/browser key|origin/i.test(said))
    return 'Not allowed: ' + said + '. The viewer needs a server key (one without origins): ask an admin for one.'
  return 'Not allowed: ' + (said || 'the gateway refused this key') + '.'
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
  if (status === 403) return forbidden(said)
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
  if (!session.scopes.includes(AUDIT_SCOPE))
    throw new GatewayError(
      403,
      'This key (' +
        session.actor +
        ') lacks the scope ' +
        AUDIT_SCOPE +
        ', which the audit log needs. Ask an admin for a key with ' +
        AUDIT_SCOPE +
        '.'
    )
  state.session = session
  offer('f-action', session.actions)
  offer('f-outcome', session.outcomes)
  sessionStorage.setItem(KEY_STORAGE, key)
  $('who').replaceChildren(session.actor, el('span', ' · ' + session.scopes.join(', '), 'scopes'))
  $('who').title = session.actor + ': ' + session.scopes.join(', ')
  say($('key-error'), '')
  const field = /** @type {HTMLInputElement} */ ($('key'))
  field.value = ''
  $('login').hidden = true
  $('session').hidden = false
  $('viewer').hidden = false
  showFilters(state.filters)
  $('f-importId').focus()
  await Promise.all([loadEvents(false), verifyChain(), loadUsage()])
}

/**
 * One group of GET /usage?groupBy=key,day: a key's calls and Exa-estimated dollars on one UTC day.
 * @typedef {object} UsageRow
 * @property {string} day
 * @property {string | null} keyId
 * @property {string | null} actor
 * @property {number} calls
 * @property {number} costUsd
 * @property {{ usd: number, period: string, soft?: number } | null} [budget]
 */

const USAGE_SCOPE = 'usage:read'
const DAY_MS = 86_400_000
/** Colours for the keys, by CSS class (`.k0` … `.k7` in app.css): no style attribute anywhere. */
const KEY_COLOURS = 8

/**
 * An SVG element with attributes and, optionally, text (set as text, never markup).
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 * @returns {SVGElement}
 */
function svg(tag, attributes, text) {
  // The namespace of the page's own <svg id="usage-svg">: no address written here.
  const node = /** @type {SVGElement} */ (document.createElementNS($('usage-svg').namespaceURI, tag))
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value))
  if (text !== undefined) node.textContent = text
  return node
}

/** @param {number} usd */
const money = (usd) => '$' + (usd >= 1 ? usd.toFixed(2) : String(Number(usd.toFixed(6))))

/** Loads the last 30 days of spend per key, for a key that may read usage (usage:read, or admin). */
async function loadUsage() {
  const scopes = signedIn().scopes
  const section = $('usage')
  section.hidden = !(scopes.includes(USAGE_SCOPE) || scopes.includes('admin'))
  if (section.hidden) return
  say($('usage-error'), '')
  try {
    drawUsage(await (await call('/usage?groupBy=key,day')).json())
  } catch (err) {
    const failure = /** @type {Failure} */ (err)
    if (failure.status !== 401) say($('usage-error'), failure.message)
  }
}

/**
 * The chart (dollars per UTC day, stacked by key, each key's daily budget as a dashed line) drawn
 * with DOM methods as SVG, and the table beneath it: every name is text.
 * @param {{ since: string, until: string, data: UsageRow[] }} body
 */
function drawUsage(body) {
  const days = []
  for (let t = Date.parse(body.since); t <= Date.parse(body.until); t += DAY_MS)
    days.push(new Date(t).toISOString().slice(0, 10))
  const keys = [...new Set(body.data.map((row) => row.keyId ?? ''))]
  const colour = (/** @type {string | null} */ keyId) => 'k' + (keys.indexOf(keyId ?? '') % KEY_COLOURS)
  const names = new Map(body.data.map((row) => [row.keyId ?? '', row.actor ?? row.keyId ?? 'admin token']))
  const totals = days.map((day) =>
    body.data.filter((row) => row.day === day).reduce((sum, row) => sum + row.costUsd, 0)
  )
  const budgets = [
    ...new Map(body.data.filter((row) => row.budget?.period === 'day').map((row) => [row.keyId, row])).values(),
  ]
  // A tenth of headroom above the highest bar or budget line, so that a line is never on the edge.
  const top =
    1.1 * Math.max(0.000001, ...totals, ...budgets.map((row) => /** @type {{ usd: number }} */ (row.budget).usd))
  const [width, height, left, bottom] = [720, 220, 56, 24]
  const barWidth = (width - left) / days.length
  const y = (/** @type {number} */ usd) => (height - bottom) * (1 - usd / top)
  const chart = $('usage-svg')
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`)
  chart.replaceChildren(
    svg('line', { x1: left, x2: width, y1: y(0), y2: y(0), class: 'axis' }),
    svg('text', { x: left - 6, y: y(top) + 10, class: 'tick', 'text-anchor': 'end' }, money(top)),
    svg('text', { x: left - 6, y: y(0), class: 'tick', 'text-anchor': 'end' }, '$0'),
    svg('text', { x: left, y: height - 6, class: 'tick' }, days[0] ?? ''),
    svg('text', { x: width, y: height - 6, class: 'tick', 'text-anchor': 'end' }, days[days.length - 1] ?? '')
  )
  days.forEach((day, i) => {
    let base = 0
    for (const row of body.data.filter((r) => r.day === day)) {
      const bar = svg('rect', {
        x: left + i * barWidth + 1,
        y: y(base + row.costUsd),
        width: Math.max(1, barWidth - 2),
        height: Math.max(0, y(base) - y(base + row.costUsd)),
        class: 'bar ' + colour(row.keyId),
      })
      bar.append(
        svg('title', {}, `${day} · ${names.get(row.keyId ?? '')}: ${money(row.costUsd)} in ${row.calls} calls`)
      )
      chart.append(bar)
      base += row.costUsd
    }
  })
  for (const row of budgets) {
    const usd = /** @type {{ usd: number }} */ (row.budget).usd
    const line = svg('line', { x1: left, x2: width, y1: y(usd), y2: y(usd), class: 'budget ' + colour(row.keyId) })
    line.append(svg('title', {}, `${names.get(row.keyId ?? '')}: budget ${money(usd)} per day`))
    chart.append(
      line,
      svg(
        'text',
        { x: width, y: y(usd) - 4, class: 'tick', 'text-anchor': 'end' },
        `${names.get(row.keyId ?? '')} budget ${money(usd)}/day`
      )
    )
  }
  const legend = el('ul', null, 'legend')
  for (const keyId of keys) {
    const item = el('li', names.get(keyId) ?? '', 'legend-item')
    item.prepend(el('span', null, 'swatch ' + colour(keyId)))
    legend.append(item)
  }
  $('usage-legend').replaceWith(legend)
  legend.id = 'usage-legend'
  const rows = [...body.data].sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : b.costUsd - a.costUsd))
  const table = /** @type {HTMLTableElement} */ ($('usage-table'))
  table.tBodies[0].replaceChildren(
    ...rows.map((row) => {
      const tr = el('tr')
      tr.append(
        el('td', row.day),
        el('td', names.get(row.keyId ?? '') ?? ''),
        el('td', row.calls),
        el('td', money(row.costUsd))
      )
      return tr
    })
  )
  say($('usage-empty'), rows.length ? '' : 'No calls to Exa in these 30 days.')
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
  $('usage').hidden = true
  $('usage-svg').replaceChildren()
  $('usage-legend').replaceChildren()
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
    syncDetail()
  } catch (caught) {
    const err = /** @type {Failure} */ (caught)
    if (load !== state.loads) return
    if (!append) {
      Object.assign(state, { events: [], cursor: null })
      renderList([], false)
      $('empty').hidden = true
      closeDetail()
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
 * "3 min ago", "in 2 h": how long ago an ISO time was, for a glance.
 * @param {string | null} iso
 * @returns {string}
 */
function ago(iso) {
  if (!iso) return ''
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000
  const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' })
  /** @type {[Intl.RelativeTimeFormatUnit, number][]} */
  const units = [
    ['day', 86400],
    ['hour', 3600],
    ['minute', 60],
  ]
  for (const [unit, size] of units)
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit)
  return Math.abs(seconds) < 10 ? 'just now' : format.format(Math.round(seconds), 'second')
}

/**
 * "3 min ago", kept current by refreshAgo.
 * @param {string | null} iso
 * @returns {HTMLSpanElement}
 */
function agoText(iso) {
  const span = el('span', ago(iso), 'ago')
  span.dataset.at = iso || ''
  return span
}

/** Brings every "… ago" of the list up to date (once a minute). */
function refreshAgo() {
  for (const span of document.querySelectorAll('#events .ago'))
    if (span instanceof HTMLElement) span.textContent = ago(span.dataset.at || null)
}

/** @returns {string} this browser's time zone and offset, e.g. "Europe/Berlin, UTC+01:00" */
function zoneLabel() {
  const offset = -new Date().getTimezoneOffset()
  const sign = offset < 0 ? '-' : '+'
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local'
  return zone + ', UTC' + sign + pad(Math.floor(Math.abs(offset) / 60)) + ':' + pad(Math.abs(offset) % 60)
}

/**
 * A value of a change or a snapshot, short, for a list: strings as they are, null as "(absent)".
 * @param {unknown} value
 * @returns {string}
 */
const brief = (value) => (value === null || value === undefined ? '(absent)' : shown(value))

/**
 * An id shown whole in the DOM (so copying takes all of it) and cut short by CSS, whole on hover.
 * @param {string} id
 * @returns {HTMLSpanElement}
 */
function idText(id) {
  const span = el('span', id, 'id mono')
  span.title = id
  return span
}

/**
 * A button that applies one filter: a per-import timeline, one actor's events.
 * @param {string} name the API's filter, e.g. importId
 * @param {string} value
 * @param {string} label what the button says it does, for screen readers and the tooltip
 * @returns {HTMLButtonElement}
 */
function filterButton(name, value, label) {
  const button = el('button', null, 'link filter-by')
  button.type = 'button'
  button.append(name === 'actor' ? el('span', value) : idText(value))
  button.title = label + ' (' + value + ')'
  button.setAttribute('aria-label', label + ': ' + value)
  button.addEventListener('click', () => filterBy(name, value))
  return button
}

/**
 * The resource an event names, as a filter button: an import's by `importId` (as before), any
 * other resource (a webhook, a key) by its type and `resourceId`.
 * @param {AuditEvent} event
 * @returns {HTMLElement | string}
 */
function resourceFilter(event) {
  if (event.importId) return filterButton('importId', event.importId, 'Show only this import')
  if (!event.resourceId) return '—'
  const span = el('span', (event.resourceType || 'resource') + ' ', 'nowrap')
  span.append(filterButton('resourceId', event.resourceId, 'Show only this ' + (event.resourceType || 'resource')))
  return span
}

/**
 * `path: from → to`, the old value struck, the new one marked.
 * @param {string} path
 * @param {unknown} from
 * @param {unknown} to
 * @returns {HTMLSpanElement}
 */
function changeLine(path, from, to) {
  const line = el('span', null, 'change')
  line.append(
    el('span', path, 'path mono'),
    el('span', brief(from), 'from'),
    el('span', '→', 'arrow'),
    el('span', brief(to), 'to')
  )
  line.title = path + ': ' + brief(from) + ' → ' + brief(to)
  return line
}

/**
 * What a request body asked for, field by field (a pending or failed row changed nothing yet).
 * @param {unknown} body
 * @returns {string}
 */
function askedFor(body) {
  if (!body || typeof body !== 'object') return body === null || body === undefined ? '' : shown(body)
  return Object.entries(/** @type {Record<string, unknown>} */ (body))
    .map(([name, value]) => name + ' = ' + shown(value))
    .join('; ')
}

/**
 * @param {unknown} iso an expiry, null for none
 * @returns {string}
 */
const expiry = (iso) => (iso === null || iso === undefined ? 'never' : typeof iso === 'string' ? when(iso) : shown(iso))

/**
 * @param {unknown} limit `{requests, periodSeconds}`, null for none
 * @returns {string}
 */
function rateText(limit) {
  if (!limit || typeof limit !== 'object') return 'none'
  const { requests, periodSeconds } = /** @type {{ requests?: unknown, periodSeconds?: unknown }} */ (limit)
  return requests + ' per ' + (periodSeconds === 60 ? 'minute' : periodSeconds + ' s')
}

/**
 * @param {unknown} list
 * @returns {string[]}
 */
const strings = (list) => (Array.isArray(list) ? list.map(String) : [])

/**
 * A key event in words: the subject key and what changed (scopes, expiry, rate limit, origins,
 * name, status; a rotation's grace end).
 * @param {AuditEvent} event
 * @returns {string[]}
 */
function keyChanges(event) {
  const before = event.before || {}
  const after = event.after || {}
  const verb = event.action.slice(event.action.indexOf('.') + 1)
  /** @type {string[]} */
  const lines = []
  if (verb === 'create') {
    lines.push('scopes ' + (strings(after.scopes).join(', ') || 'none'))
    lines.push('expires ' + expiry(after.expiresAt))
    lines.push('rate limit ' + rateText(after.rateLimit))
    return lines
  }
  if (verb === 'rotate') {
    const body = /** @type {{ gracePeriodSeconds?: unknown }} */ (event.requestBody || {})
    const grace = typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : 0
    const from = Date.parse(event.startedAt || '')
    const end = grace > 0 && !isNaN(from) ? when(new Date(from + grace * 1000).toISOString()) : 'at once'
    lines.push(
      'new secret ' + (after.prefix ?? '') + '…; the old one ' + (grace > 0 ? 'works until ' + end : 'ended at once')
    )
    return lines
  }
  const was = strings(before.scopes)
  const now = strings(after.scopes)
  const added = now.filter((scope) => !was.includes(scope))
  const removed = was.filter((scope) => !now.includes(scope))
  if (added.length || removed.length)
    lines.push('scopes ' + [...added.map((s) => '+' + s), ...removed.map((s) => '−' + s)].join(' '))
  if (shown(before.expiresAt ?? null) !== shown(after.expiresAt ?? null))
    lines.push('expiry ' + expiry(before.expiresAt) + ' → ' + expiry(after.expiresAt))
  if (shown(before.rateLimit ?? null) !== shown(after.rateLimit ?? null))
    lines.push('rate limit ' + rateText(before.rateLimit) + ' → ' + rateText(after.rateLimit))
  if (shown(strings(before.origins)) !== shown(strings(after.origins)))
    lines.push(
      'origins ' +
        (strings(before.origins).join(', ') || 'none') +
        ' → ' +
        (strings(after.origins).join(', ') || 'none')
    )
  if (before.name !== after.name) lines.push('name ' + brief(before.name) + ' → ' + brief(after.name))
  if (before.status !== after.status) lines.push('status ' + brief(before.status) + ' → ' + brief(after.status))
  return lines
}

/**
 * The key a key event acted on: its name (from the snapshot) and id.
 * @param {AuditEvent} event
 * @returns {HTMLSpanElement}
 */
function subjectKey(event) {
  const name = (event.after || event.before || {}).name
  const span = el('span', null, 'subject')
  span.append(el('span', 'key ', 'muted'))
  if (typeof name === 'string') span.append(el('strong', name), ' ')
  span.append(idText(/** @type {string} */ (event.subjectKeyId)))
  return span
}

/** @param {AuditEvent} event */
const isKeyEvent = (event) => event.subjectKeyId !== null || event.action.startsWith('key')

/**
 * The "what changed" cell: inline `from → to` per field, a key event in words, what a pending,
 * failed or unknown row asked for, or "no change".
 * @param {AuditEvent} event
 * @returns {HTMLTableCellElement}
 */
function changesCell(event) {
  const cell = el('td', null, 'what')
  cell.dataset.label = 'Changed'
  if (isKeyEvent(event)) {
    if (event.subjectKeyId) cell.append(subjectKey(event), el('br'))
    const lines = keyChanges(event)
    cell.append(el('span', lines.length ? lines.join('; ') : 'no change', lines.length ? 'key-change' : 'no-change'))
    return cell
  }
  if (event.outcome !== 'succeeded' && event.requestBody !== null && event.requestBody !== undefined) {
    cell.append(el('span', 'asked: ', 'muted'), el('span', askedFor(event.requestBody), 'asked mono'))
    return cell
  }
  const changes = event.changes || []
  if (!changes.length) {
    cell.append(el('span', 'no change', 'no-change'))
    return cell
  }
  for (const change of changes) cell.append(changeLine(change.path, change.from, change.to))
  return cell
}

/**
 * A list cell with its column's name, which the narrow layout shows beside it.
 * @param {string} label
 * @param {...(Node | string)} content
 * @returns {HTMLTableCellElement}
 */
function cell(label, ...content) {
  const td = el('td')
  td.dataset.label = label
  td.append(...content)
  return td
}

/**
 * @param {AuditEvent} event
 * @returns {HTMLTableRowElement}
 */
function eventRow(event) {
  const row = el('tr')
  row.dataset.id = event.id
  row.classList.toggle('selected', state.selected === event.id)
  const open = el('button', when(event.startedAt), 'link time')
  open.type = 'button'
  open.title = (event.startedAt || '') + ' (UTC)'
  open.setAttribute('aria-label', 'Show ' + event.action + ' of ' + when(event.startedAt))
  open.addEventListener('click', () => openDetail(event))
  const imported = cell('Resource', resourceFilter(event))
  imported.classList.toggle('blank', !event.importId && !event.resourceId)
  row.append(
    cell('Time', open, agoText(event.startedAt)),
    cell('Action', el('span', event.action, 'mono nowrap')),
    imported,
    cell('Actor', filterButton('actor', event.actor, 'Show only this actor')),
    cell('Outcome', pill(event.outcome)),
    changesCell(event)
  )
  row.addEventListener('click', (e) => {
    if (!(/** @type {Element} */ (e.target).closest('button'))) openDetail(event)
  })
  return row
}

function closeDetail() {
  $('detail').hidden = true
  document.body.classList.remove('detail-open')
  state.selected = null
  for (const row of /** @type {HTMLTableElement} */ ($('events')).tBodies[0].rows) row.classList.remove('selected')
}

/**
 * After the list changed: the detail shows the selected event as the list now has it, or closes
 * when the event is no longer listed (other filters, an empty result, an error).
 */
function syncDetail() {
  const event = state.events.find((candidate) => candidate.id === state.selected)
  if (event) openDetail(event, false)
  else closeDetail()
}

/**
 * The revert of this event among the listed ones, if there is one that did not fail (a pending
 * one has been sent: its row settles just after the answer).
 * @param {AuditEvent} event
 * @returns {AuditEvent | undefined}
 */
const revertOf = (event) =>
  state.events.find((other) => other.revertsEventId === event.id && other.outcome !== 'failed')

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
    // A key as the admin API shows it; its id is the event's subject key, shown above.
    for (const name of Object.keys(snapshot).sort()) if (name !== 'id') fields.set(name, keyField(name, snapshot[name]))
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
 * A key's field in words: times in local time, lists joined, a rate limit per period.
 * @param {string} name
 * @param {unknown} value
 * @returns {unknown}
 */
function keyField(name, value) {
  if (name === 'rateLimit') return value === null || value === undefined ? value : rateText(value)
  if (Array.isArray(value)) return value.map(String).join(', ')
  if (name.endsWith('At') && typeof value === 'string') return when(value)
  return value
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
  add(
    'When',
    when(event.startedAt) +
      (event.finishedAt ? ' → ' + when(event.finishedAt) : ' (not settled yet)') +
      ' · ' +
      ago(event.startedAt) +
      ' · ' +
      zoneLabel()
  )
  if (isKeyEvent(event)) add('Key change', keyChanges(event).join('; ') || 'no change')
  if (event.outcome !== 'succeeded' || isKeyEvent(event)) add('Asked for', askedFor(event.requestBody))
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

/**
 * @param {AuditEvent} event
 * @param {boolean} [focus] move the focus to the pane (not when the list merely refreshed)
 */
function openDetail(event, focus = true) {
  state.selected = event.id
  for (const row of /** @type {HTMLTableElement} */ ($('events')).tBodies[0].rows)
    row.classList.toggle('selected', row.dataset.id === event.id)
  const pane = $('detail')
  const head = el('div', null, 'detail-head')
  const title = el('h2', event.action + ' · ')
  title.append(idText(event.importId || event.resourceId || event.subjectKeyId || event.id))
  title.id = 'detail-title'
  const close = el('button', 'Close', 'quiet')
  close.type = 'button'
  close.addEventListener('click', () => closeDetail())
  head.append(title, pill(event.outcome), close)
  pane.replaceChildren(head, facts(event), diffTable(event), revertControls(event))
  pane.hidden = false
  document.body.classList.add('detail-open')
  // Without scrolling: the pane is in view (beside the list, or a sheet over it).
  if (focus) pane.focus({ preventScroll: true })
}

/**
 * @param {AuditEvent} event
 * @returns {HTMLDivElement}
 */
function revertControls(event) {
  const session = signedIn()
  const box = el('div', null, 'revert')
  if (!session.revertibleActions.includes(event.action) || event.outcome !== 'succeeded' || !event.before) return box
  // The page reverts imports; a webhook's change is reverted through the API (docs/audit.md).
  if (!event.importId) {
    box.append(el('p', 'Revert this change with POST /audit/events/' + event.id + '/revert.', 'hint'))
    return box
  }
  const undone = revertOf(event)
  if (undone) {
    box.append(el('p', 'Already reverted, by the revert of ' + when(undone.startedAt) + '.', 'hint'))
    return box
  }
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
 * A field of an import (`title`, `metadata.<key>`), undefined when it has none.
 * @param {Snapshot | null} imported
 * @param {string} path
 * @returns {unknown}
 */
function fieldOf(imported, path) {
  if (!imported) return undefined
  if (!path.startsWith('metadata.')) return imported[path]
  const metadata = imported.metadata
  return metadata && typeof metadata === 'object'
    ? /** @type {Record<string, unknown>} */ (metadata)[path.slice(9)]
    : undefined
}

/**
 * The import as it is now (GET /websets/v0/imports/{id}), or why it could not be read.
 * @param {string} id
 * @returns {Promise<{ current: Snapshot | null, problem: string }>}
 */
async function currentImport(id) {
  try {
    return { current: await (await call('/websets/v0/imports/' + encodeURIComponent(id))).json(), problem: '' }
  } catch (caught) {
    return { current: null, problem: /** @type {Failure} */ (caught).message }
  }
}

/**
 * The confirmation's rows: each changed field, its value now (read from the import) and the
 * value the revert puts back; a field changed since the event is tagged.
 * @param {AuditEvent} event
 * @param {Snapshot | null} current
 * @param {string} problem why the import could not be read ('' when it was)
 * @returns {HTMLTableRowElement[]}
 */
function confirmRows(event, current, problem) {
  return (event.changes || []).map((change) => {
    const row = el('tr')
    const now = fieldOf(current, change.path)
    const field = el('th', change.path)
    const moved = current !== null && shown(now ?? null) !== shown(change.to ?? null)
    if (moved) field.append(el('span', 'changed since', 'tag'))
    row.append(
      field,
      current ? el('td', brief(now), 'old') : el('td', problem ? 'unknown: ' + problem : 'reading…', 'old none'),
      el('td', brief(change.from), 'new')
    )
    return row
  })
}

/**
 * The confirmation names what will change: each changed field, from now back to before.
 * @param {AuditEvent} event
 */
async function askRevert(event) {
  state.reverting = event
  $('confirm-text').textContent =
    'Import ' +
    event.importId +
    ' goes back to how it was before ' +
    event.actor +
    "'s change of " +
    when(event.startedAt) +
    '. The revert is audited as a new event.'
  $('confirm-changes').replaceChildren(...confirmRows(event, null, ''))
  say($('confirm-error'), '')
  $('confirm-force').hidden = true
  $('confirm-ok').hidden = false
  const dialog = /** @type {HTMLDialogElement} */ ($('confirm'))
  dialog.showModal()
  $('confirm-cancel').focus()
  const { current, problem } = await currentImport(/** @type {string} */ (event.importId))
  if (state.reverting === event && dialog.open)
    $('confirm-changes').replaceChildren(...confirmRows(event, current, problem))
}

/**
 * What a revert put back, from the import it answered: `title “Q2 leads”, metadata.owner “ana”`.
 * @param {AuditEvent} event
 * @param {Snapshot} restored
 * @returns {string}
 */
function restoredText(event, restored) {
  return (event.changes || [])
    .map((change) => {
      const value = fieldOf(restored, change.path)
      return value === undefined || value === null
        ? change.path + ' removed'
        : change.path + ' back to “' + shown(value) + '”'
    })
    .join(', ')
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
    /** @type {Snapshot} */
    const done = await (
      await call('/audit/events/' + encodeURIComponent(event.id) + '/revert' + (force ? '?force=true' : ''), 'POST')
    ).json()
    dialog.close()
    say(
      $('notice'),
      'Reverted ' + event.importId + ': ' + restoredText(event, done) + '. The revert is the newest event.'
    )
    await Promise.all([loadEvents(false), verifyChain()])
    // The pane moves on to the revert itself: the reverted event has nothing left to offer.
    const revertEvent = revertOf(event)
    if (revertEvent) openDetail(revertEvent)
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

/**
 * ISO time → the value of a datetime-local field (local time, to the second).
 * @param {string} iso
 * @returns {string}
 */
function localInput(iso) {
  const d = new Date(iso)
  if (isNaN(d.getTime())) return iso
  return when(iso).replace(' ', 'T')
}

/**
 * Puts filters into the form (from the URL, or a clicked id).
 * @param {Record<string, string>} filters
 */
function showFilters(filters) {
  const form = /** @type {HTMLFormElement} */ ($('filters'))
  for (const name of FILTER_NAMES) {
    const field = /** @type {HTMLInputElement | HTMLSelectElement | null} */ (form.elements.namedItem(name))
    if (!field) continue
    const value = filters[name] || ''
    field.value = value && (name === 'since' || name === 'until') ? localInput(value) : value
  }
}

/** @returns {Record<string, string>} the filters the address carries (`/ui?importId=…`) */
function filtersFromUrl() {
  /** @type {Record<string, string>} */
  const filters = {}
  const params = new URLSearchParams(location.search)
  for (const name of FILTER_NAMES) {
    const value = params.get(name)
    if (value) filters[name] = value
  }
  return filters
}

/**
 * Applies filters: into the state, the form and the address (reload or share it), then loads.
 * @param {Record<string, string>} filters
 */
function applyFilters(filters) {
  state.filters = filters
  showFilters(filters)
  const address = location.pathname + query({})
  if (address !== location.pathname + location.search) history.pushState(null, '', address)
  say($('notice'), '')
  loadEvents(false)
}

/**
 * One click on an import id or an actor: only its events (the other filters are kept).
 * @param {string} name
 * @param {string} value
 */
function filterBy(name, value) {
  applyFilters({ ...readFilters(), [name]: value })
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
  applyFilters(readFilters())
})
$('clear').addEventListener('click', () => {
  const form = /** @type {HTMLFormElement} */ ($('filters'))
  form.reset()
  applyFilters({})
})
window.addEventListener('popstate', () => {
  state.filters = filtersFromUrl()
  showFilters(state.filters)
  if (state.session) loadEvents(false)
})
document.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape' || $('detail').hidden || /** @type {HTMLDialogElement} */ ($('confirm')).open) return
  const id = state.selected
  closeDetail()
  const row = [.../** @type {HTMLTableElement} */ ($('events')).tBodies[0].rows].find((r) => r.dataset.id === id)
  row?.querySelector('button')?.focus()
})
$('more').addEventListener('click', () => loadEvents(true))
$('export-ndjson').addEventListener('click', () => exportAs('ndjson'))
$('export-csv').addEventListener('click', () => exportAs('csv'))
$('forget').addEventListener('click', () => signOut(''))
$('confirm-cancel').addEventListener('click', () => /** @type {HTMLDialogElement} */ ($('confirm')).close())
$('confirm-ok').addEventListener('click', () => revert(false))
$('confirm-force').addEventListener('click', () => revert(true))

setInterval(refreshAgo, 60000)
state.filters = filtersFromUrl()
$('zone').textContent = zoneLabel()
const saved = sessionStorage.getItem(KEY_STORAGE)
if (saved)
  signIn(saved).catch((err) => {
    if (err.status !== 401) say($('key-error'), err.message)
  })
else $('key').focus()
