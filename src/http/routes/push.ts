/**
 * @module /api/push: the VAPID public key browsers subscribe with, and my browsers'
 * PushSubscriptions (saved, removed by endpoint). Delivery is chat/push.ts.
 */
import { Hono } from 'hono'
import { pushEndpointBody, pushSubscriptionBody } from '../../chat/inputs.ts'
import type { Chat } from '../../chat/service.ts'
import type { AppEnv } from '../env.ts'
import { requireUser } from '../middleware/auth.ts'
import { sendError } from '../middleware/errors.ts'
import { readBody } from '../validate.ts'

export function pushRoutes(chat: Chat) {
  const app = new Hono<AppEnv>()

  // Public: it is what every browser needs before it subscribes.
  app.get('/vapid-public-key', (c) => c.json({ publicKey: chat.push.publicKey }))

  app.use('/subscriptions', requireUser(chat))

  app.post('/subscriptions', async (c) => {
    const body = await readBody(c, pushSubscriptionBody)
    if (!body.ok) return sendError(c, body.error)
    const saved = await chat.push.subscribe(c.get('user'), body.value)
    if (!saved.ok) return sendError(c, saved.error)
    return c.json(
      { subscription: { endpoint: body.value.endpoint } },
      saved.value.created ? 201 : 200
    )
  })

  app.delete('/subscriptions', async (c) => {
    const body = await readBody(c, pushEndpointBody)
    if (!body.ok) return sendError(c, body.error)
    const removed = await chat.push.unsubscribe(c.get('user'), body.value.endpoint)
    if (!removed.ok) return sendError(c, removed.error)
    return c.body(null, 204)
  })

  return app
}
