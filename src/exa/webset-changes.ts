import * as z from 'zod/mini'
import { segment } from './query'
import { Metadata } from './schemas'
import { WEBSETS_BASE } from './websets'

/**
 * The changes of a webset that are served: update (exa-js `websets.update`, its body pinned to
 * UpdateWebsetRequest in test/exa-types.ts), delete and cancel (bodiless), and the Webset as the
 * audit keeps it. `{id}` is the webset's id or its externalId, percent-encoded on the way.
 */
export const websetChangePath = (ref: string) => `${WEBSETS_BASE}/websets/${segment(ref)}`

/** POST /websets/v0/websets/{id} (Exa's update is a POST): `metadata` (null clears it), nothing else. */
export const UpdateWebsetBody = z.strictObject({ metadata: z.optional(z.nullable(Metadata)) })
export type UpdateWebset = z.infer<typeof UpdateWebsetBody>

/** What an answer must be to be kept as a Webset in the audit log (upstream's object is kept as it came). */
export const WebsetSnapshot = z.looseObject({ id: z.string(), status: z.string() })
