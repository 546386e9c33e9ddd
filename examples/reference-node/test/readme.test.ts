// The README cannot drift from the code: its `pnpm bpci` commands parse as the CLI defines them,
// its HTTP paths are routes of the API, and its config table lists every key of the schema.
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiServer } from '../src/api/server.js'
import { buildProgram } from '../src/cli.js'
import { CONFIG_SCHEMA } from '../src/config.js'
import { startNetwork, type TestNetwork } from './helpers.js'

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')

/** The lines of the README's ```sh blocks, with `\` continuations joined. */
function shellLines(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '')
  return blocks.flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
}

/** Shell words of a command line: quoted strings stay whole, `"$(...)"` becomes one word. */
function words(line: string): string[] {
  const substituted = line.replace(/"\$\((?:[^()]|\([^()]*\))*\)"/g, 'VALUE')
  const withoutComment = substituted.replace(/\s#.*$/, '')
  return (withoutComment.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((word) =>
    word.replace(/^(['"])(.*)\1$/, '$2'),
  )
}

/** The words after `pnpm bpci` of every README command that runs bpci. */
function bpciInvocations(): string[][] {
  return shellLines(readme).flatMap((line) => {
    const all = words(line)
    const at = all.findIndex((word, i) => word === 'pnpm' && all[i + 1] === 'bpci')
    if (at < 0) return []
    const args = all.slice(at + 2)
    // A redirection or a pipe ends the command's own words.
    const end = args.findIndex((word) => /^(\d?>|\||&&|;)/.test(word))
    return [end < 0 ? args : args.slice(0, end)]
  })
}

function commandPath(command: Command): string {
  const names: string[] = []
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

function leafCommands(command: Command): Command[] {
  if (command.commands.length === 0) return [command]
  return command.commands.flatMap(leafCommands)
}

/** Checks one invocation against the program's definition; returns the problems found. */
function checkInvocation(program: Command, args: string[]): { path: string; problems: string[] } {
  let command = program
  let index = 0
  for (; index < args.length; index++) {
    const sub = command.commands.find((c) => c.name() === args[index])
    if (sub === undefined) break
    command = sub
  }
  const path = commandPath(command)
  if (command === program || command.commands.length > 0) {
    return { path, problems: [`"${args.join(' ')}" does not name a command`] }
  }
  const problems: string[] = []
  const given = new Set<string>()
  let positional = 0
  for (; index < args.length; index++) {
    const arg = args[index]!
    if (!arg.startsWith('-')) {
      positional++
      continue
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined]
    const option = command.options.find((o) => o.long === flag || o.short === flag)
    if (option === undefined) {
      problems.push(`${path}: unknown option ${flag}`)
      continue
    }
    given.add(option.attributeName())
    if ((option.required || option.optional) && inline === undefined) index++
  }
  for (const option of command.options) {
    if (option.mandatory && !given.has(option.attributeName())) {
      problems.push(`${path}: missing required option ${option.long}`)
    }
  }
  const expected = command.registeredArguments
  const required = expected.filter((argument) => argument.required).length
  if (positional < required || positional > expected.length) {
    problems.push(`${path}: ${positional} arguments, expected ${required} to ${expected.length}`)
  }
  return { path, problems }
}

describe('README commands', () => {
  const program = buildProgram()
  const invocations = bpciInvocations()

  it('are commands and options the CLI defines, with their required options', () => {
    expect(invocations.length).toBeGreaterThanOrEqual(15)
    const problems = invocations.flatMap((args) => checkInvocation(program, args).problems)
    expect(problems).toEqual([])
  })

  it('show every command of the CLI', () => {
    const shown = new Set(invocations.map((args) => checkInvocation(program, args).path))
    const missing = leafCommands(program)
      .map(commandPath)
      .filter((path) => !shown.has(path))
    expect(missing).toEqual([])
  })

  it('are checked for real: a made-up command or option is caught', () => {
    expect(checkInvocation(program, ['blockchain', 'frobnicate']).problems).not.toEqual([])
    expect(checkInvocation(program, ['network', 'peers', '--colour']).problems).not.toEqual([])
    expect(checkInvocation(program, ['node', 'start']).problems).not.toEqual([])
    expect(checkInvocation(program, ['node', 'start', '--config', 'a.yaml']).problems).toEqual([])
  })
})

/** Every `METHOD /path` the README names, and every path its curl commands request. */
function documentedRequests(): { method: 'GET' | 'POST'; url: string }[] {
  const requests: { method: 'GET' | 'POST'; url: string }[] = []
  for (const match of readme.matchAll(/\b(GET|POST) (\/[^\s`]*)/g)) {
    requests.push({ method: match[1] as 'GET' | 'POST', url: match[2]! })
  }
  for (const line of shellLines(readme)) {
    const url = /\bcurl\b.*?(?:localhost|127\.0\.0\.1):\d+(\/[^\s'"]*)/.exec(line)?.[1]
    if (url === undefined) continue
    requests.push({ method: /\s(-d|--data|-X\s*POST)\b/.test(line) ? 'POST' : 'GET', url })
  }
  for (const match of readme.matchAll(/ws:\/\/[^\s/`]+(\/[^\s`]*)/g)) {
    requests.push({ method: 'GET', url: match[1]! })
  }
  return requests
}

describe('README HTTP paths', () => {
  let network: TestNetwork
  let app: FastifyInstance
  const routes: { method: string; url: string }[] = []

  beforeAll(async () => {
    network = await startNetwork(1, { start: false })
    app = createApiServer(network.nodes[0]!, { rateLimit: false })
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        if (method !== 'HEAD') routes.push({ method, url: route.url })
      }
    })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await network.stop()
  })

  it('are routes of the API', async () => {
    const requests = documentedRequests()
    expect(requests.length).toBeGreaterThanOrEqual(15)
    const unrouted: string[] = []
    for (const { method, url } of requests) {
      const response = await app.inject({ method, url })
      // A 404 of a route (an unknown block, say) says what is missing; only the router says
      // "no route".
      if (response.statusCode !== 404) continue
      if ((response.json() as { message: string }).message.startsWith('no route')) {
        unrouted.push(`${method} ${url}`)
      }
    }
    expect(unrouted).toEqual([])
  })

  it('include every route of the API', () => {
    expect(routes.length).toBeGreaterThanOrEqual(10)
    const documented = new Set(documentedRequests().map(({ method, url }) => `${method} ${url}`))
    const missing = routes
      .map(({ method, url }) => `${method} ${url}`)
      .filter((route) => !documented.has(route))
    expect(missing).toEqual([])
  })

  it('are checked for real: a path that is no route is caught', async () => {
    const response = await app.inject({ url: '/api/v1/blockchain/nothing' })
    expect(response.statusCode).toBe(404)
    expect((response.json() as { message: string }).message).toMatch(/^no route/)
  })
})

/** Dotted paths of the schema's leaf keys, e.g. `api.rate_limit.max`. */
function configKeys(schema: { properties?: Record<string, unknown> }, prefix = ''): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, value]) => {
    const child = value as { type?: unknown; properties?: Record<string, unknown> }
    return child.type === 'object' && child.properties !== undefined
      ? configKeys(child, `${prefix}${key}.`)
      : [`${prefix}${key}`]
  })
}

describe('README config reference', () => {
  it('has a row for every key of the config schema', () => {
    const keys = configKeys(CONFIG_SCHEMA)
    expect(keys).toContain('mempool.max_queued_per_sender')
    const missing = keys.filter((key) => !readme.includes(`| \`${key}\` |`))
    expect(missing).toEqual([])
  })
})
