/**
 * @module Uploads (ours only: the references have no POST /api/media). Throughput: waves of
 * concurrent 10 MB uploads, photos (JPEG, so sharp cleans and thumbnails each) and files (a ZIP
 * header and random bytes, stored as they are), in uploads/s and MB/s. Then a busy room, the same
 * open-loop step twice in one run: once alone, once while the uploaders each keep a 10 MB photo
 * in flight. The ratio of the two delivery p99s says whether uploads hold up the event loop.
 * The uploads go from this process (fetch), the room from the generator workers.
 */
import sharp from 'sharp'
import { startCpuWindow, waitUntilQuiet } from '../proc.ts'
import { type RampOptions, runStep, type StepOutcome } from './ramp.ts'
import { closeClients, connectClients, type ScenarioContext, tokenFor } from './session.ts'

export interface UploadOptions {
  /** Bytes per upload (a photo comes as close as JPEG allows, never over). */
  fileBytes: number
  /** Uploads in flight at once (one per user). */
  concurrent: number
  /** Waves per kind in the throughput phase. */
  waves: number
  /** The busy room: clients, senders and the rate of the step run twice. */
  room: Pick<RampOptions, 'clients' | 'senders' | 'stepMs' | 'graceMs'> & { dps: number }
}

interface Throughput {
  uploads: number
  failed: number
  uploadsPerSec: number
  mbPerSec: number
  /** Latency of one upload, request to 201, in ms. */
  p50Ms: number | null
  cpuPercent: number | null
}

export interface UploadResult {
  photoBytes: number
  photos: Throughput
  files: Throughput
  quiet: StepOutcome
  loaded: StepOutcome
  /** Photos that completed while the loaded step ran (and after, until the last one answered). */
  loadedUploads: Throughput
  errors: Record<string, number>
}

/** A JPEG of random pixels (JPEG cannot compress noise) just under `maxBytes`. */
async function noisePhoto(maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  // Noise at quality 95 costs about 1.03 bytes a pixel; shrink until it fits.
  let side = Math.floor(Math.sqrt(maxBytes / 1.03))
  for (;;) {
    const raw = new Uint8Array(side * side * 3)
    for (let at = 0; at < raw.length; at += 65_536)
      crypto.getRandomValues(raw.subarray(at, at + 65_536))
    const jpeg = await sharp(raw, { raw: { width: side, height: side, channels: 3 } })
      .jpeg({ quality: 95 })
      .toBuffer()
    if (jpeg.length <= maxBytes) return new Uint8Array(jpeg)
    side = Math.floor(side * 0.98)
  }
}

/** A ZIP's local-file signature and then random bytes: sniffed as application/zip, never parsed. */
function zipLike(bytes: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes)
  for (let at = 0; at < out.length; at += 65_536)
    crypto.getRandomValues(out.subarray(at, at + 65_536))
  out.set([0x50, 0x4b, 0x03, 0x04], 0)
  return out
}

const quantileOf = (values: number[], q: number) => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null
}

/** One POST /api/media; resolves with its latency, or the error code it answered. */
async function uploadOnce(
  ctx: ScenarioContext,
  token: string,
  body: Blob,
  name: string
): Promise<{ ms: number } | { error: string }> {
  const form = new FormData()
  form.append('file', body, name)
  const started = performance.now()
  try {
    const response = await fetch(`${ctx.target.baseUrl}/api/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    })
    const answer = (await response.json().catch(() => ({}))) as { error?: { code?: string } }
    if (response.status !== 201) return { error: answer.error?.code ?? `http_${response.status}` }
    return { ms: performance.now() - started }
  } catch (error) {
    return { error: (error as Error).name || 'fetch_failed' }
  }
}

/**
 * `concurrent` uploaders, each uploading `body` again while `more()` says so (at least once).
 * Throughput counts from the first request to the last answer.
 */
async function uploaders(
  ctx: ScenarioContext,
  concurrent: number,
  body: Blob,
  name: string,
  more: (uploaded: number) => boolean,
  errors: Record<string, number>
): Promise<Throughput> {
  const latencies: number[] = []
  let failed = 0
  const startedAt = performance.now()
  await Promise.all(
    Array.from({ length: concurrent }, async (_, i) => {
      let uploaded = 0
      do {
        const outcome = await uploadOnce(ctx, tokenFor(ctx, i), body, name)
        uploaded += 1
        if ('ms' in outcome) latencies.push(outcome.ms)
        else {
          failed += 1
          errors[outcome.error] = (errors[outcome.error] ?? 0) + 1
        }
      } while (more(uploaded))
    })
  )
  const seconds = (performance.now() - startedAt) / 1_000
  return {
    uploads: latencies.length,
    failed,
    uploadsPerSec: latencies.length / seconds,
    mbPerSec: (latencies.length * body.size) / 1e6 / seconds,
    p50Ms: quantileOf(latencies, 0.5),
    cpuPercent: null,
  }
}

export async function uploadLoad(
  ctx: ScenarioContext,
  options: UploadOptions
): Promise<UploadResult> {
  const errors: Record<string, number> = {}
  const photo = new Blob([await noisePhoto(options.fileBytes)], { type: 'image/jpeg' })
  const file = new Blob([zipLike(options.fileBytes)], { type: 'application/zip' })
  ctx.log(
    `  uploads: photo ${(photo.size / 1e6).toFixed(2)} MB, file ${(file.size / 1e6).toFixed(2)} MB, ${options.concurrent} at once`
  )

  const measured = async (body: Blob, name: string) => {
    await waitUntilQuiet([ctx.target.pid, ...ctx.pool.pids])
    const cpu = await startCpuWindow(ctx.target.pid)
    const result = await uploaders(
      ctx,
      options.concurrent,
      body,
      name,
      (uploaded) => uploaded < options.waves,
      errors
    )
    result.cpuPercent = (await cpu.stop())?.percent ?? null
    ctx.log(
      `  uploads ${name}: ${result.uploads} in ${result.uploadsPerSec.toFixed(2)}/s, ${result.mbPerSec.toFixed(1)} MB/s, p50 ${result.p50Ms?.toFixed(0) ?? '-'} ms, cpu ${result.cpuPercent?.toFixed(0) ?? '-'}%${result.failed ? `, ${result.failed} failed` : ''}`
    )
    return result
  }
  const files = await measured(file, 'file.zip')
  const photos = await measured(photo, 'photo.jpg')

  // The busy room: every client in one city, the first `senders` of them sending.
  const room = options.room
  const cityId = ctx.identities.cities[0] ?? 'mumbai'
  const specs = Array.from({ length: room.clients }, (_, i) => ({
    token: tokenFor(ctx, i),
    cityId,
  }))
  const connected = await connectClients(ctx, specs, 32)
  const members = new Map([[cityId, connected.ok]])
  const senderIndexes = Array.from({ length: room.senders }, (_, i) => i).filter(
    (i) => !connected.failedClients.has(i)
  )
  const plan = (step: number) => ({
    step,
    targetDps: room.dps,
    ratePerSender: room.dps / Math.max(1, connected.ok) / Math.max(1, senderIndexes.length),
    senderIndexes,
    placements: connected.placements,
    members,
    stepMs: room.stepMs,
    graceMs: room.graceMs,
  })
  const line = (label: string, outcome: StepOutcome) =>
    ctx.log(
      `  busy room ${label}: ${Math.round(outcome.deliveriesPerSec)}/s of ${room.dps}/s, p50 ${outcome.p50Ms?.toFixed(1) ?? '-'} p99 ${outcome.p99Ms?.toFixed(1) ?? '-'} ms, cpu ${outcome.cpuPercent?.toFixed(0) ?? '-'}% (generator ${outcome.generatorCpuPercent.toFixed(0)}%)`
    )
  const quiet = await runStep(ctx, plan(900))
  line('without uploads', quiet)
  let loadedUploads: Throughput | undefined
  // The uploaders start with the senders and keep one photo each in flight until the step ends.
  const loaded = await runStep(ctx, plan(901), async () => {
    const endsAt = performance.now() + room.stepMs
    loadedUploads = await uploaders(
      ctx,
      options.concurrent,
      photo,
      'photo.jpg',
      () => performance.now() < endsAt,
      errors
    )
  })
  line(`while ${options.concurrent} upload photos`, loaded)
  const during = loadedUploads as Throughput
  ctx.log(
    `  uploads during the busy room: ${during.uploads} photos, ${during.uploadsPerSec.toFixed(2)}/s${during.failed ? `, ${during.failed} failed` : ''}`
  )
  await closeClients(ctx)
  return { photoBytes: photo.size, photos, files, quiet, loaded, loadedUploads: during, errors }
}
