/**
 * A create's answer as an Idempotency-Key replay may give it at `now`. Its upload URL stays while
 * Exa says it is valid (`uploadValidUntil`: an hour after the create): a client that lost the
 * first answer needs it to upload the CSV, and Exa offers no way to get another. Once expired it
 * opens nothing, so it is dropped (from the replay and the stored record).
 */
export function withUnexpiredUpload(answer: unknown, now: number): unknown {
  if (typeof answer !== 'object' || answer === null || !('uploadValidUntil' in answer)) return answer
  if (!(Date.parse(String(answer.uploadValidUntil)) <= now)) return answer
  const { uploadUrl: _url, uploadValidUntil: _until, ...rest } = answer as Record<string, unknown>
  return rest
}
