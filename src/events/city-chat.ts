/** @module City chat events (the guide's cityChat.js): any active user may join any existing city. */
import { type EventDeps, registerRoomHandlers } from './room-handlers.ts'
import { CITY } from './rooms.ts'

/** Once per server: the handlers are shared by every socket. */
export function registerCityChat(deps: EventDeps): void {
  registerRoomHandlers(deps, CITY, async (_actor, cityId) => {
    const city = await deps.chat.getCity(cityId)
    return city.ok ? { ok: true, value: { name: city.value.name } } : city
  })
}
