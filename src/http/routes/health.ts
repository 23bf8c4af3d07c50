/** @module Probes: /healthz (the process answers) and /readyz (the database answers). */
import { Hono } from 'hono'
import type { Logger } from '../../log.ts'
import type { AppEnv } from '../env.ts'

export interface ReadinessCheck {
  name: string
  check(): Promise<void>
}

export function healthRoutes(checks: ReadinessCheck[], log: Logger) {
  const app = new Hono<AppEnv>()

  app.get('/healthz', (c) => c.json({ status: 'ok' }))

  app.get('/readyz', async (c) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await check()
          return [name, 'ok'] as const
        } catch (error) {
          log.warn('readiness check failed', { check: name, error })
          return [name, 'down'] as const
        }
      })
    )
    const ready = results.every(([, state]) => state === 'ok')
    return c.json(
      { status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results) },
      ready ? 200 : 503
    )
  })

  return app
}
