/**
 * @module The room stream's hand-off to the realtime layer: each event goes to its topic as the
 * JSON the stream built, neither encoded again nor scanned for binary, with its offset (the
 * realtime layer appends it where socket.io-client reads it, and orders relayed ones by it).
 */
import type { RoomPublisher } from '../chat/room-stream.ts'
import type { IOServer } from '../realtime/index.ts'

/** @example chat.stream.attach(createRoomPublisher(io)) */
export function createRoomPublisher(io: IOServer): RoomPublisher {
  return {
    publish(topic, json, offset) {
      io.to(topic).emitJson(json, offset)
    },
  }
}
