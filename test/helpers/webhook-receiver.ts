/**
 * @module A webhook receiver of the test's own on 127.0.0.1: it answers every request 200 and keeps
 * each in arrival order. A redelivery (after a crash, say) repeats its event's id, so `events()`
 * counts each event once, by id, as a receiver de-duplicates.
 */

export interface WebhookArrival {
  id: string
  type: string
  data: any
  /** The request body as sent. */
  body: string
}

export type WebhookReceiver = ReturnType<typeof startWebhookReceiver>

/**
 * @example const receiver = startWebhookReceiver(); const env = { ...receiver.env }
 */
export function startWebhookReceiver() {
  const arrivals: WebhookArrival[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text()
      const json = JSON.parse(body) as { id: string; type: string; data: unknown }
      arrivals.push({ id: json.id, type: json.type, data: json.data, body })
      return new Response('', { status: 200 })
    },
  })
  const url = `http://127.0.0.1:${server.port}/hook`
  /** Each event once, by id, in the order of its first arrival. */
  const events = () => {
    const seen = new Map<string, WebhookArrival>()
    for (const arrival of arrivals) if (!seen.has(arrival.id)) seen.set(arrival.id, arrival)
    return [...seen.values()]
  }
  return {
    url,
    /** Every request, redeliveries included, in arrival order. */
    arrivals,
    events,
    /** The events of one type, each once. */
    ofType: (type: string) => events().filter((event) => event.type === type),
    /** A server's settings to deliver here, retrying soon after a failure. */
    env: {
      WEBHOOK_URL: url,
      WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
      WEBHOOK_RETRY_BASE: '50ms',
    },
    stop: () => server.stop(true),
  }
}
