/** @module Type of drizzle-kit's .sql files imported `with { type: 'text' }` (src/store/migrations.ts). */
declare module '*.sql' {
  const text: string
  export default text
}
