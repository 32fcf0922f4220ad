/**
 * Exa's `costDollars.total` (its estimate of a call's price, not an invoice) in millionths of a
 * dollar: integers, so that sums are exact. Null when the answer carries no usable total: the
 * gateway never guesses a price.
 */
export function costMicrosOf(answer: unknown): number | null {
  // Optional chaining reads nothing from null and undefined, and undefined from other primitives.
  const total = (answer as { costDollars?: { total?: unknown } } | null)?.costDollars?.total
  return typeof total === 'number' && Number.isFinite(total) && total >= 0 ? Math.round(total * 1e6) : null
}

/** The longest SSE line kept while looking for a cost: a longer one is passed on, not parsed. */
const MAX_LINE_CHARS = 1 << 20

/**
 * Passes an SSE body through chunk by chunk, each chunk enqueued as it comes (nothing buffered,
 * nothing delayed), while reading a copy of its `data:` lines for `costDollars.total`: Exa sends
 * it in a stream's last events. `onEnd` gets the last cost seen (null if none) when the stream
 * ends, errors or is cancelled.
 */
export function meterStream(
  body: ReadableStream<Uint8Array>,
  onEnd: (costMicros: number | null, completed: boolean) => void
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder()
  let line = ''
  let cost: number | null = null
  let ended = false
  const end = (completed: boolean) => {
    if (ended) return
    ended = true
    onEnd(cost, completed)
  }
  const scan = (text: string) => {
    const lines = (line + text).split('\n')
    line = lines.pop()!
    if (line.length > MAX_LINE_CHARS) line = ''
    for (const raw of lines) {
      if (!raw.startsWith('data:') || !raw.includes('costDollars')) continue
      try {
        const found = costMicrosOf(JSON.parse(raw.slice(5)))
        if (found !== null) cost = found
      } catch {
        // Not JSON: nothing to read a cost from.
      }
    }
  }
  const reader = body.getReader()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read()
          if (done) {
            scan(decoder.decode() + '\n')
            controller.close()
            return end(true)
          }
          controller.enqueue(value)
          scan(decoder.decode(value, { stream: true }))
        } catch (err) {
          controller.error(err)
          end(false)
        }
      },
      cancel(reason) {
        end(false)
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 }
  )
}
