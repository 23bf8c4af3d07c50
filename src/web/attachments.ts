/**
 * @module Attachments in the web client: uploads with progress (XHR, since fetch reports no upload
 * progress), the media cookie that lets `<img>` tags load private media, the profile photo, and
 * how an attachment shows in the message list (thumbnail with its size reserved, or name and size).
 */
import { el } from './dom.ts'
import { readAccessToken } from './session.ts'
import type { Message } from './types.ts'

export type Attachment = NonNullable<Message['attachment']>

/** Sets the `media_token` cookie (Path=/api/media) from the current access token. */
export async function openMediaSession(): Promise<void> {
  const token = readAccessToken()
  if (!token) return
  await fetch('/api/media/session', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  }).catch(() => undefined)
}

type Answer<T> = { ok: true; value: T } | { ok: false; message: string }

function send<T>(
  method: string,
  path: string,
  file: File,
  pick: (body: any) => T,
  onProgress: (fraction: number) => void
): Promise<Answer<T>> {
  return new Promise((resolve) => {
    const form = new FormData()
    form.append('file', file, file.name)
    const xhr = new XMLHttpRequest()
    xhr.open(method, path)
    xhr.setRequestHeader('authorization', `Bearer ${readAccessToken() ?? ''}`)
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total)
    }
    xhr.onload = () => {
      let body: any = null
      try {
        body = JSON.parse(xhr.responseText)
      } catch {}
      if (xhr.status >= 200 && xhr.status < 300) resolve({ ok: true, value: pick(body) })
      else resolve({ ok: false, message: body?.error?.message ?? `upload failed (${xhr.status})` })
    }
    xhr.onerror = () => resolve({ ok: false, message: 'upload failed (network)' })
    xhr.send(form)
  })
}

/** POST /api/media with progress. */
const uploadMedia = (file: File, onProgress: (fraction: number) => void) =>
  send('POST', '/api/media', file, (body) => body.media as Attachment, onProgress)

/** PUT /api/users/me/photo: the new profile_photo_url. */
const uploadPhoto = (file: File, onProgress: (fraction: number) => void) =>
  send(
    'PUT',
    '/api/users/me/photo',
    file,
    (body) => body.user.profile_photo_url as string,
    onProgress
  )

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** Thumbnails fit this box; width and height are set before the image loads, so nothing jumps. */
const THUMB_BOX = 240

/** A message's attachment: a thumbnail opening the full size, or a file's name and size. */
export function attachmentElement(attachment: Attachment): HTMLElement {
  if (attachment.thumbnail_url && attachment.width && attachment.height) {
    const scale = Math.min(1, THUMB_BOX / Math.max(attachment.width, attachment.height))
    return el(
      'a',
      {
        class: 'attachment image',
        href: attachment.url,
        target: '_blank',
        rel: 'noopener',
        'data-testid': 'attachment-image',
      },
      el('img', {
        src: attachment.thumbnail_url,
        alt: attachment.name,
        width: String(Math.round(attachment.width * scale)),
        height: String(Math.round(attachment.height * scale)),
        loading: 'lazy',
      })
    )
  }
  return el(
    'a',
    {
      class: 'attachment file',
      href: attachment.url,
      target: '_blank',
      rel: 'noopener',
      'data-testid': 'attachment-file',
    },
    el('span', { class: 'file-name' }, attachment.name),
    ' ',
    el('span', { class: 'file-size' }, formatSize(attachment.size))
  )
}

interface ComposerRoom {
  sendAttachment(media: Attachment): Promise<string | null>
}

/**
 * The composer's attach button, paste and drag-and-drop, with the progress bar; and the profile
 * panel's photo upload. `room()` is the open room (or null).
 */
export function wireAttachments(options: {
  room: () => ComposerRoom | null
  banner: (text: string) => void
  photoChanged: (url: string) => void
}): void {
  const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
  const attach = byId<HTMLButtonElement>('attach')
  const picker = byId<HTMLInputElement>('attach-input')
  const progress = byId<HTMLProgressElement>('upload-progress')
  attach.disabled = false

  async function sendFile(file: File): Promise<void> {
    const room = options.room()
    if (!room) return
    progress.hidden = false
    progress.value = 0
    const uploaded = await uploadMedia(file, (fraction) => {
      progress.value = fraction
    })
    progress.hidden = true
    if (!uploaded.ok) return options.banner(`${file.name}: ${uploaded.message}`)
    const failed = await room.sendAttachment(uploaded.value)
    if (failed) options.banner(`${file.name}: ${failed}`)
  }
  const sendAll = (files: FileList | null | undefined) => {
    for (const file of files ?? []) void sendFile(file)
  }

  attach.addEventListener('click', () => picker.click())
  picker.addEventListener('change', () => {
    sendAll(picker.files)
    picker.value = ''
  })
  byId('composer-input').addEventListener('paste', (event) => {
    const files = (event as ClipboardEvent).clipboardData?.files
    if (files && files.length > 0) {
      event.preventDefault()
      sendAll(files)
    }
  })
  const log = byId('messages')
  log.addEventListener('dragover', (event) => {
    event.preventDefault()
    log.classList.add('dropping')
  })
  log.addEventListener('dragleave', () => log.classList.remove('dropping'))
  log.addEventListener('drop', (event) => {
    event.preventDefault()
    log.classList.remove('dropping')
    sendAll(event.dataTransfer?.files)
  })

  const photoInput = byId<HTMLInputElement>('photo-input')
  const status = byId('photo-status')
  byId('photo-button').addEventListener('click', () => photoInput.click())
  photoInput.addEventListener('change', async () => {
    const file = photoInput.files?.[0]
    photoInput.value = ''
    if (!file) return
    status.textContent = 'Uploading…'
    const done = await uploadPhoto(file, (fraction) => {
      status.textContent = `Uploading… ${Math.round(fraction * 100)}%`
    })
    if (!done.ok) {
      status.textContent = done.message
      return
    }
    status.textContent = 'Photo updated'
    options.photoChanged(done.value)
  })
}
