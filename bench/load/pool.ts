/** @module The orchestrator's side of the generator: spawns worker processes and sends them commands. */
import type { Subprocess } from 'bun'
import type { Command, Reply } from './messages.ts'

const WORKER_PATH = new URL('./worker.ts', import.meta.url).pathname

interface Worker {
  process: Subprocess
  pending: ((reply: Reply) => void) | null
}

export interface WorkerPool {
  readonly size: number
  /** Process ids, so the orchestrator can report the generator's own CPU next to the server's. */
  readonly pids: readonly number[]
  /** Sends one command to each worker (index → command, null to skip) and waits for every reply. */
  all(commandFor: (worker: number) => Command | null, timeoutMs: number): Promise<Reply[]>
  stop(): void
}

/** Starts `size` generator processes on the Bun that runs the bench. */
export function createWorkerPool(size: number): WorkerPool {
  const workers: Worker[] = []
  for (let i = 0; i < size; i++) {
    const worker: Worker = { process: undefined as unknown as Subprocess, pending: null }
    worker.process = Bun.spawn([process.execPath, WORKER_PATH], {
      stdout: 'inherit',
      stderr: 'inherit',
      serialization: 'json',
      ipc(message) {
        const wake = worker.pending
        worker.pending = null
        wake?.(message as Reply)
      },
    })
    workers.push(worker)
  }

  const request = (worker: Worker, command: Command, timeoutMs: number) =>
    new Promise<Reply>((resolve) => {
      const timer = setTimeout(() => {
        worker.pending = null
        resolve({
          type: 'failed',
          message: `worker gave no answer to ${command.type} in ${timeoutMs} ms`,
        })
      }, timeoutMs)
      worker.pending = (reply) => {
        clearTimeout(timer)
        resolve(reply)
      }
      worker.process.send(command)
    })

  return {
    size,
    pids: workers.map((worker) => worker.process.pid),
    async all(commandFor, timeoutMs) {
      const replies = await Promise.all(
        workers.map((worker, index) => {
          const command = commandFor(index)
          return command ? request(worker, command, timeoutMs) : null
        })
      )
      return replies.filter((reply): reply is Reply => reply !== null)
    },
    stop() {
      for (const worker of workers) worker.process.kill()
    },
  }
}
