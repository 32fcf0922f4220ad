import type {
  SimEnrichment,
  SimItem,
  SimMonitor,
  SimMonitorRun,
  SimSearch,
  SimWebhook,
  SimWebset,
  WebsetsStore,
} from './websets-store.ts'

/**
 * Websets as Exa leaves them once their work is done, built through the store's events so that
 * every list (items, events, a webhook's attempts) agrees: a webset whose search found `items`
 * items, enriched by one enrichment, watched by a monitor that ran once. Tests seed through
 * `/__sim/websets` and `/__sim/webhooks`; `npm start` seeds DEMO_WEBSETS.
 */
export type WebsetSeed = {
  id?: string
  externalId?: string | null
  title?: string | null
  query?: string
  entity?: 'company' | 'person' | 'article' | 'research_paper'
  /** How many items the search found (default 3). */
  items?: number
  metadata?: Record<string, string>
}

export type SeededWebset = ReturnType<typeof seedWebset>

const EVALUATION_URL = 'https://example.com/source'

/** The properties of the `n`th item found for an entity type (previews and seeded items). */
export function properties(entity: NonNullable<WebsetSeed['entity']> | 'custom', n: number): SimItem['properties'] {
  const url = `https://example${n}.com`
  switch (entity) {
    case 'custom':
      return {
        type: 'custom',
        url,
        description: `Result ${n}`,
        content: null,
        custom: { author: null, publishedAt: null, title: `Result ${n}` },
      }
    case 'person':
      return {
        type: 'person',
        url: `https://linkedin.example/in/person-${n}`,
        description: `Person ${n}, head of data`,
        person: {
          name: `Person ${n}`,
          location: 'Berlin',
          position: 'Head of data',
          pictureUrl: null,
          company: { name: `Company ${n}`, location: null },
        },
      }
    case 'article':
      return {
        type: 'article',
        url,
        description: `Article ${n}`,
        content: null,
        article: { author: `Author ${n}`, publishedAt: '2026-05-01T00:00:00.000Z', title: `Article ${n}` },
      }
    case 'research_paper':
      return {
        type: 'research_paper',
        url,
        description: `Paper ${n}`,
        content: null,
        researchPaper: { author: `Author ${n}`, publishedAt: '2026-04-01T00:00:00.000Z', title: `Paper ${n}` },
      }
    default:
      return {
        type: 'company',
        url,
        description: `Company ${n} builds tools for teams`,
        content: null,
        company: {
          name: `Company ${n}`,
          about: 'Builds tools for teams',
          employees: 10 * n,
          industry: 'Software',
          location: 'Berlin, Germany',
          logoUrl: null,
        },
      }
  }
}

/** Subscribes a webhook (active; its secret shown only on create, so `null` here). */
export function seedWebhook(
  store: WebsetsStore,
  fields: { id?: string; url?: string; events?: string[]; metadata?: Record<string, string> } = {}
): SimWebhook {
  const now = store.now()
  const hook: SimWebhook = {
    id: fields.id ?? store.newId('webhook'),
    object: 'webhook',
    status: 'active',
    events: (fields.events ?? ['webset.created', 'webset.item.created', 'webset.idle']) as SimWebhook['events'],
    url: fields.url ?? 'https://hooks.example.com/exa',
    secret: null,
    metadata: fields.metadata ?? {},
    createdAt: now,
    updatedAt: now,
  }
  store.state.webhooks[hook.id] = hook
  return structuredClone(hook)
}

export function seedWebset(store: WebsetsStore, seed: WebsetSeed = {}) {
  const { state } = store
  const entity = seed.entity ?? 'company'
  const eventsBefore = Object.keys(state.events).length
  const created = store.now()
  const webset: SimWebset = {
    id: seed.id ?? store.newId('webset'),
    object: 'webset',
    status: 'running',
    externalId: seed.externalId ?? null,
    title: seed.title ?? null,
    metadata: seed.metadata ?? {},
    dashboardUrl: '',
    createdAt: created,
    updatedAt: created,
  }
  webset.dashboardUrl = `https://websets.exa.ai/${webset.id}`
  state.websets[webset.id] = webset
  store.emit('webset.created', store.webset(webset.id))

  const query = seed.query ?? `${entity}s building developer tools`
  const search: SimSearch = {
    id: store.newId('wsearch'),
    object: 'webset_search',
    websetId: webset.id,
    status: 'running',
    query,
    entity: { type: entity },
    criteria: [{ description: 'Builds developer tools', successRate: 100 }],
    count: seed.items ?? 3,
    maxPeoplePerCompany: null,
    behavior: 'override',
    exclude: [],
    scope: [],
    progress: { found: 0, analyzed: 0, completion: 0, timeLeft: null },
    recall: null,
    metadata: {},
    canceledAt: null,
    canceledReason: null as never,
    createdAt: store.now(),
    updatedAt: store.now(),
  }
  state.searches[search.id] = search
  store.emit('webset.search.created', search)

  const enrichment: SimEnrichment = {
    id: store.newId('wenrich'),
    object: 'webset_enrichment',
    websetId: webset.id,
    status: 'pending',
    title: 'Headquarters',
    description: 'Where is the headquarters?',
    format: 'text',
    options: null,
    instructions: null,
    metadata: {},
    createdAt: store.now(),
    updatedAt: store.now(),
  }
  state.enrichments[enrichment.id] = enrichment

  const items: SimItem[] = []
  for (let n = 1; n <= search.count; n++) {
    const at = store.now()
    const item: SimItem = {
      id: store.newId('witem'),
      object: 'webset_item',
      source: 'search',
      sourceId: search.id,
      websetId: webset.id,
      properties: properties(entity, n),
      evaluations: [
        {
          criterion: 'Builds developer tools',
          reasoning: 'The site describes developer tools.',
          satisfied: 'yes',
          references: [{ title: 'Source', snippet: 'developer tools', url: EVALUATION_URL }],
        },
      ],
      enrichments: null,
      createdAt: at,
      updatedAt: at,
    }
    state.items[item.id] = item
    store.emit('webset.item.created', item)
    item.enrichments = [
      {
        object: 'enrichment_result',
        enrichmentId: enrichment.id,
        format: 'text',
        status: 'completed',
        result: ['Berlin, Germany'],
        reasoning: 'Stated on the company page.',
        references: [{ title: 'About', snippet: 'Berlin', url: EVALUATION_URL }],
      },
    ]
    item.updatedAt = store.now()
    store.emit('webset.item.enriched', item)
    items.push(item)
  }
  Object.assign(search, {
    status: 'completed',
    progress: { found: items.length, analyzed: items.length * 2, completion: 100, timeLeft: 0 },
    updatedAt: store.now(),
  })
  store.emit('webset.search.completed', search)
  Object.assign(enrichment, { status: 'completed', updatedAt: store.now() })

  const monitor: SimMonitor = {
    id: store.newId('monitor'),
    object: 'monitor',
    status: 'enabled',
    websetId: webset.id,
    cadence: { cron: '0 9 * * 1', timezone: 'Etc/UTC' },
    behavior: { type: 'search', config: { query, count: 10, behavior: 'append' } },
    nextRunAt: new Date(Date.parse(created) + 7 * 86_400_000).toISOString(),
    metadata: {},
    createdAt: store.now(),
    updatedAt: store.now(),
  }
  state.monitors[monitor.id] = monitor
  store.emit('monitor.created', store.monitor(monitor.id))
  const runAt = store.now()
  const run: SimMonitorRun = {
    id: store.newId('mrun'),
    object: 'monitor_run',
    monitorId: monitor.id,
    status: 'completed',
    type: 'search',
    completedAt: store.now(),
    failedAt: null,
    failedReason: null,
    canceledAt: null,
    createdAt: runAt,
    updatedAt: runAt,
  }
  state.runs[run.id] = run
  store.emit('monitor.run.created', run)
  store.emit('monitor.run.completed', run)

  Object.assign(webset, { status: 'idle', updatedAt: store.now() })
  store.emit('webset.idle', store.webset(webset.id))
  return {
    webset: store.webset(webset.id)!,
    items: structuredClone(items),
    search: structuredClone(search),
    enrichment: structuredClone(enrichment),
    monitor: store.monitor(monitor.id)!,
    run: structuredClone(run),
    /** The events it emitted, oldest first. */
    events: structuredClone(Object.values(state.events).slice(eventsBefore)),
  }
}

/** What `npm start` seeds, with fixed webset ids so the README's commands work as written. */
export const DEMO_WEBSETS: WebsetSeed[] = [
  { id: 'webset_demo_devtools', externalId: 'crm-devtools', title: 'Developer tools companies', items: 5 },
  { id: 'webset_demo_speakers', title: 'Data leaders in Berlin', entity: 'person', items: 3 },
]

/** The demo: a webhook first (so it records the demo's deliveries), then the demo websets. */
export function seedDemoWebsets(store: WebsetsStore) {
  seedWebhook(store, { id: 'webhook_demo', url: 'https://hooks.example.com/exa', metadata: { owner: 'ana' } })
  for (const seed of DEMO_WEBSETS) seedWebset(store, seed)
}
