/** @module Seed: the default list of cities, inserted idempotently at start-up. */
import type { Db } from './db.ts'
import { cities } from './schema.ts'

/** Real cities, slugged. Any active user may join any of these rooms. */
export const DEFAULT_CITIES: ReadonlyArray<{ id: string; name: string; country: string }> = [
  { id: 'mumbai', name: 'Mumbai', country: 'India' },
  { id: 'delhi', name: 'Delhi', country: 'India' },
  { id: 'bengaluru', name: 'Bengaluru', country: 'India' },
  { id: 'hyderabad', name: 'Hyderabad', country: 'India' },
  { id: 'chennai', name: 'Chennai', country: 'India' },
  { id: 'kolkata', name: 'Kolkata', country: 'India' },
  { id: 'pune', name: 'Pune', country: 'India' },
  { id: 'ahmedabad', name: 'Ahmedabad', country: 'India' },
  { id: 'jaipur', name: 'Jaipur', country: 'India' },
  { id: 'london', name: 'London', country: 'United Kingdom' },
  { id: 'new-york', name: 'New York', country: 'United States' },
  { id: 'san-francisco', name: 'San Francisco', country: 'United States' },
  { id: 'toronto', name: 'Toronto', country: 'Canada' },
  { id: 'mexico-city', name: 'Mexico City', country: 'Mexico' },
  { id: 'sao-paulo', name: 'São Paulo', country: 'Brazil' },
  { id: 'paris', name: 'Paris', country: 'France' },
  { id: 'berlin', name: 'Berlin', country: 'Germany' },
  { id: 'madrid', name: 'Madrid', country: 'Spain' },
  { id: 'istanbul', name: 'Istanbul', country: 'Türkiye' },
  { id: 'cairo', name: 'Cairo', country: 'Egypt' },
  { id: 'lagos', name: 'Lagos', country: 'Nigeria' },
  { id: 'nairobi', name: 'Nairobi', country: 'Kenya' },
  { id: 'dubai', name: 'Dubai', country: 'United Arab Emirates' },
  { id: 'singapore', name: 'Singapore', country: 'Singapore' },
  { id: 'tokyo', name: 'Tokyo', country: 'Japan' },
  { id: 'seoul', name: 'Seoul', country: 'South Korea' },
  { id: 'sydney', name: 'Sydney', country: 'Australia' },
]

/** Inserts the default cities that are missing; existing rows are left as they are. */
export async function seedCities(db: Db, now = Date.now()): Promise<void> {
  await db
    .insert(cities)
    .values(DEFAULT_CITIES.map((city) => ({ ...city, createdAt: now })))
    .onConflictDoNothing()
}
