/**
 * The viewer's script, part 3: revert (offered only to keys with imports:write, after a
 * confirmation naming each field it changes; the API's 409 shown as it is, with force as a
 * deliberate second step) and the wiring of every control.
 */
export const ACTIONS_PART = String.raw`
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
`
