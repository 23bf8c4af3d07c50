/** @module drizzle-kit configuration: generates SQL migrations from src/store/schema.ts into drizzle/. */
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/store/schema.ts',
  out: './drizzle',
})
