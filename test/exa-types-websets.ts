/**
 * Type-level pins, checked by `npm run typecheck` (nothing here runs): each body schema of
 * src/exa/webset-bodies.ts against the parameters exa-js 2.23.0 sends, in both directions (see
 * test/exa-types.ts for what `sendable` and `allowed` mean). A field the spec gives a default
 * for may be left out of the schema's input; its output always has it, as exa-js's type does.
 */
import type {
  CreateEnrichmentParameters,
  CreateMonitorParameters,
  CreateWebsetParameters,
  CreateWebsetSearchParameters,
  PreviewWebsetParameters,
  UpdateEnrichmentParameters,
  UpdateMonitor,
} from 'exa-js'
import type {
  CreateEnrichmentBody,
  CreateMonitorBody,
  CreateWebsetBody,
  CreateWebsetSearchBody,
  PreviewWebsetBody,
  UpdateEnrichmentBody,
  UpdateMonitorBody,
} from '../src/exa/webset-bodies'
import type { EnumValues, Pin } from './exa-types'

export const websetPins = {
  createWebset: { sendable: true, allowed: true },
  previewWebset: { sendable: true, allowed: true },
  createSearch: { sendable: true, allowed: true },
  createEnrichment: { sendable: true, allowed: true },
  updateEnrichment: { sendable: true, allowed: true },
  createMonitor: { sendable: true, allowed: true },
  updateMonitor: { sendable: true, allowed: true },
} satisfies {
  /** `websets.create(params)` and `websets.preview(params, { search })`: the parameters as the body. */
  createWebset: Pin<typeof CreateWebsetBody, EnumValues<CreateWebsetParameters>>
  previewWebset: Pin<typeof PreviewWebsetBody, EnumValues<PreviewWebsetParameters>>
  /** `websets.searches.create(websetId, params)`. */
  createSearch: Pin<typeof CreateWebsetSearchBody, EnumValues<CreateWebsetSearchParameters>>
  /** `websets.enrichments.create(websetId, params)` and `update(websetId, id, params)`. */
  createEnrichment: Pin<typeof CreateEnrichmentBody, EnumValues<CreateEnrichmentParameters>>
  updateEnrichment: Pin<typeof UpdateEnrichmentBody, EnumValues<UpdateEnrichmentParameters>>
  /** `websets.monitors.create(params)` and `update(id, params)`. */
  createMonitor: Pin<typeof CreateMonitorBody, EnumValues<CreateMonitorParameters>>
  updateMonitor: Pin<typeof UpdateMonitorBody, EnumValues<UpdateMonitor>>
}
