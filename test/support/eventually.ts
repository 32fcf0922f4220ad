/**
 * Waits for what the gateway does after answering (waitUntil work, a timer): reads until `done`
 * holds or `timeoutMs` has passed, and returns the last value read (the caller's assertion then
 * says what was wrong).
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 3_000
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
