// exa-js through the gateway: get, list, update an import, then read the audit row the update left.
//
//   npm start                      # prints the export lines this needs, then in another terminal:
//   export GATEWAY_KEY=egw_… GATEWAY_URL=http://127.0.0.1:8787
//   node examples/exa-js.mjs [import id]      # default: import_demo_leads, a demo import of npm start
//
// The only change from calling Exa directly: the gateway's origin as base URL and a gateway key
// (imports:read, imports:write; audit:read for the last step) instead of the Exa key.
import Exa from 'exa-js'

const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787'
const key = process.env.GATEWAY_KEY
if (!key) {
  console.error('Set GATEWAY_KEY to a gateway key (npm start prints: export GATEWAY_KEY=egw_…).')
  process.exit(1)
}
const importId = process.argv[2] ?? 'import_demo_leads'
const exa = new Exa(key, gateway) // was: new Exa(process.env.EXA_API_KEY)

const item = await exa.websets.imports.get(importId)
console.log(`get     ${item.id}: "${item.title}", metadata ${JSON.stringify(item.metadata)}`)

const page = await exa.websets.imports.list({ limit: 5 })
console.log(`list    ${page.data.map((i) => i.id).join(', ')}${page.hasMore ? ', …' : ''}`)

// Exa replaces `metadata` on PATCH: keys not sent are dropped. To add one, send the others too.
const updated = await exa.websets.imports.update(item.id, {
  title: 'Q3 leads',
  metadata: { ...item.metadata, reviewedAt: new Date().toISOString() },
})
console.log(`update  ${updated.id}: "${updated.title}", metadata ${JSON.stringify(updated.metadata)}`)

// The gateway's own API (not part of exa-js): the audit row of that update, settled just after
// Exa's answer came back.
let event
for (let attempt = 0; attempt < 50; attempt++) {
  const res = await fetch(`${gateway}/audit/events?importId=${encodeURIComponent(item.id)}&limit=1`, {
    headers: { 'x-api-key': key },
  })
  if (!res.ok) throw new Error(`GET /audit/events answered ${res.status}: ${await res.text()}`)
  ;[event] = (await res.json()).data
  if (event?.outcome !== 'pending') break
  await new Promise((resolve) => setTimeout(resolve, 100))
}
console.log(`audit   ${event.id} ${event.action} ${event.outcome} by ${event.actor} at ${event.startedAt}`)
for (const change of event.changes) {
  console.log(`          ${change.path}: ${JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`)
}
