/** @module City chat events (the guide's cityChat.js): any active user may join any existing city. */
import { CITY } from '../chat/rooms.ts'
import { type EventDeps, registerRoomHandlers } from './room-handlers.ts'

/** Once per server: the handlers are shared by every socket. */
export function registerCityChat(deps: EventDeps): void {
  registerRoomHandlers(deps, CITY)
}
