import type { Snapshot } from '../audit/diff'

const ids = (list: unknown) => (Array.isArray(list) ? list.map((x) => (x as { id?: unknown })?.id) : [])

/**
 * What a webset's delete destroyed, for its row (issue 15 §3): the webset as Exa answered it,
 * without the objects inside it, and what went with it as ids and counts. Items are never listed:
 * a webset may hold thousands; their number is what its searches found.
 */
export function destroyed(webset: Snapshot): Snapshot {
  const { searches, enrichments, monitors, imports, items: _items, ...rest } = webset
  return {
    ...rest,
    destroyed: {
      searches: ids(searches),
      enrichments: ids(enrichments),
      monitors: ids(monitors),
      imports: ids(imports),
      itemsFound: itemsFound(searches),
    },
  }
}

/** The items a webset's searches found (Exa's `progress.found`): what a delete or an override takes with it. */
const itemsFound = (searches: unknown) =>
  (Array.isArray(searches) ? searches : []).reduce<number>(
    (sum, search) => sum + (Number((search as { progress?: { found?: unknown } })?.progress?.found) || 0),
    0
  )

/**
 * What a search created with `override` replaces, as its row's before: the webset's searches so
 * far (ids) and the items they found (a count), which Exa discards unless the new search finds them.
 */
export const replaced = (webset: Snapshot): Snapshot => ({
  webset: webset.id,
  searches: ids(webset.searches),
  itemsFound: itemsFound(webset.searches),
})
