/** @module Types for city-chat.mjs, the JavaScript module both socket.io references share. */
import type { Server } from 'socket.io'

export interface PublicUser {
  _id: string
  username: string
  full_name: string
  profile_photo_url: string | null
}

export interface SendRequest {
  cityId: string
  content: string
  message_type: 'text' | 'image' | 'file'
  media_url: string | null
  reply_to: string | null
}

export interface CityMessage extends SendRequest {
  _id: string
  sender_id: PublicUser
  is_edited: false
  is_deleted: false
  created_at: string
  edited_at: null
}

export interface Presence {
  add(userId: string): boolean
  remove(userId: string): boolean
  count(): number
}

export function cityName(cityId: string): string
export function createVerifier(secret: string): (token: unknown) => Promise<PublicUser | null>
export function createIdGenerator(): () => string
export function parseCityRequest(data: unknown): { cityId: string } | null
export function parseSendRequest(data: unknown): SendRequest | null
export function buildMessage(id: string, sender: PublicUser, request: SendRequest): CityMessage
export function createPresence(): Presence
export function attachCityChat(io: Server, options: { secret: string }): void
