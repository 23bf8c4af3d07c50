/** @module City chat events (the guide's cityChat.js): any active user may join any existing city. */
import type { IOSocket } from '../realtime/index.ts'
import { type EventDeps, registerRoomHandlers } from './room-handlers.ts'
import { CITY } from './rooms.ts'

export function registerCityChat(socket: IOSocket, deps: EventDeps): void {
  registerRoomHandlers(socket, deps, CITY, async (_actor, cityId) => {
    const city = await deps.chat.getCity(cityId)
    return city.ok ? { ok: true, value: { name: city.value.name } } : city
  })
}
