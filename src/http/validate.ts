/** @module Request input: JSON body, query and params validated with the chat/inputs.ts schemas. */
import type { Context } from 'hono'
import type { z } from 'zod'
import { parseInput } from '../chat/inputs.ts'
import { fail, type Result } from '../errors.ts'

/** Bad JSON is `invalid_input`; an empty body validates as `{}` so optional-only bodies work. */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S
): Promise<Result<z.output<S>>> {
  const text = await c.req.text()
  let json: unknown = {}
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text)
    } catch {
      return fail('invalid_input', 'request body must be valid JSON')
    }
  }
  return parseInput(schema, json)
}

export function readQuery<S extends z.ZodType>(c: Context, schema: S): Result<z.output<S>> {
  return parseInput(schema, c.req.query())
}

export function readParams<S extends z.ZodType>(c: Context, schema: S): Result<z.output<S>> {
  return parseInput(schema, c.req.param())
}
