/**
 * The four QBFT messages, their deterministic DAG-CBOR encoding and the bytes each signature
 * covers.
 *
 * A message on the wire is an envelope `{ body, signature, author, payload?, roundChanges?,
 * prepares? }`. `body` is the encoded, signed part: `{ kind, height, round, ... }`. The signature
 * covers `domainHash('metanode/ibft/' + kind + '/v1', chainId, body)`, so a signature for one kind
 * or one chain never verifies for another. The unsigned extras carry what the body commits to by
 * digest (the block payload) and the justification (signed bodies of other validators):
 * - PROPOSAL: `payload` (the block) and, in rounds > 0, `roundChanges` and `prepares`;
 * - ROUND-CHANGE: when the author has prepared, `payload` (the prepared block) and `prepares`
 *   (the PREPARE quorum of its prepared round);
 * - PREPARE and COMMIT: nothing (a COMMIT's BLS seal is inside its body).
 */
import { decode, decodeAs, encode, type Infer, MetanodeError, shape } from '@metanode/core'
import { blake3, domainHash } from '@metanode/crypto/hash'
import { utf8 } from './bytes.js'
import { type IbftSigner, SEAL_LENGTH, SIGNATURE_LENGTH } from './signing.js'
import { MAX_VALIDATORS, VALIDATOR_ID_LENGTH } from './validators.js'

/** The message kinds, as they appear in bodies and signing tags. */
export const MESSAGE_KINDS = {
  proposal: 'PROPOSAL',
  prepare: 'PREPARE',
  commit: 'COMMIT',
  roundChange: 'ROUND-CHANGE',
} as const

/** One of {@link MESSAGE_KINDS}. */
export type MessageKind = (typeof MESSAGE_KINDS)[keyof typeof MESSAGE_KINDS]

/** Size limits of decoded messages. */
export interface MessageLimits {
  /** Largest encoded message, in bytes. Default 1 MiB. */
  maxMessageBytes: number
  /** Largest block payload, in bytes. Default 768 KiB. */
  maxPayloadBytes: number
  /** Largest round number accepted at all. Default 2^20. */
  maxRoundNumber: number
}

/** Default {@link MessageLimits}. */
export const DEFAULT_MESSAGE_LIMITS: Readonly<MessageLimits> = Object.freeze({
  maxMessageBytes: 1024 * 1024,
  maxPayloadBytes: 768 * 1024,
  maxRoundNumber: 2 ** 20,
})

/** Length of a block id / digest. */
export const DIGEST_LENGTH = 32

// a body is a handful of integers and at most two 32-byte digests and a 96-byte seal
const MAX_BODY_BYTES = 512

/** Signed body of a PROPOSAL: the proposer commits to the block by digest. */
export interface ProposalBody {
  /** Always `PROPOSAL`. */
  kind: 'PROPOSAL'
  /** Height decided. */
  height: number
  /** Round of the proposal. */
  round: number
  /** The block id of the payload ({@link blockIdOf}). */
  digest: Uint8Array
  /** The proposer's clock at proposal time, ms since the epoch (handed to the application). */
  timestamp: number
}

/** Signed body of a PREPARE. */
export interface PrepareBody {
  /** Always `PREPARE`. */
  kind: 'PREPARE'
  /** Height decided. */
  height: number
  /** Round prepared in. */
  round: number
  /** Block id being prepared. */
  digest: Uint8Array
}

/** Signed body of a COMMIT, with the BLS commit seal over {@link commitSealBytes}. */
export interface CommitBody {
  /** Always `COMMIT`. */
  kind: 'COMMIT'
  /** Height decided. */
  height: number
  /** Round committed in. */
  round: number
  /** Block id being committed. */
  digest: Uint8Array
  /** The commit seal (96 bytes). */
  seal: Uint8Array
}

/** Signed body of a ROUND-CHANGE, with what the author prepared, if anything. */
export interface RoundChangeBody {
  /** Always `ROUND-CHANGE`. */
  kind: 'ROUND-CHANGE'
  /** Height decided. */
  height: number
  /** The round the author moves to. */
  round: number
  /** The author's latest prepared round, when it has prepared. */
  preparedRound?: number
  /** The block id prepared in `preparedRound`. */
  preparedDigest?: Uint8Array
}

/** Any signed body. */
export type MessageBody = ProposalBody | PrepareBody | CommitBody | RoundChangeBody

/** A body with its encoding, signature and author. */
export interface SignedBody<B extends MessageBody = MessageBody> {
  /** The decoded body. */
  body: B
  /** Its canonical encoding: the bytes under the signature. */
  bodyBytes: Uint8Array
  /** The author's signature over {@link signingBytes}. */
  signature: Uint8Array
  /** The author's validator id. */
  author: Uint8Array
}

/** A decoded consensus message. */
export interface IbftMessage<B extends MessageBody = MessageBody> {
  /** The signed part. */
  signed: SignedBody<B>
  /** The block (PROPOSAL) or prepared block (ROUND-CHANGE). */
  payload?: Uint8Array
  /** PROPOSAL justification: a quorum of ROUND-CHANGE bodies for the proposal's round. */
  roundChanges: SignedBody<RoundChangeBody>[]
  /** PREPARE quorum justifying a prepared block (PROPOSAL and ROUND-CHANGE). */
  prepares: SignedBody<PrepareBody>[]
}

const digestShape = shape.bytes({ length: DIGEST_LENGTH })

function bodyShapes(limits: MessageLimits) {
  const height = shape.int({ min: 1 })
  const round = shape.int({ min: 0, max: limits.maxRoundNumber })
  return {
    PROPOSAL: shape.object({
      kind: shape.literal('PROPOSAL'),
      height,
      round,
      digest: digestShape,
      timestamp: shape.int({ min: 0 }),
    }),
    PREPARE: shape.object({ kind: shape.literal('PREPARE'), height, round, digest: digestShape }),
    COMMIT: shape.object({
      kind: shape.literal('COMMIT'),
      height,
      round,
      digest: digestShape,
      seal: shape.bytes({ length: SEAL_LENGTH }),
    }),
    'ROUND-CHANGE': shape.object({
      kind: shape.literal('ROUND-CHANGE'),
      height,
      round,
      preparedRound: shape.optional(round),
      preparedDigest: shape.optional(digestShape),
    }),
  }
}

const signedShape = shape.object({
  body: shape.bytes({ min: 1, max: MAX_BODY_BYTES }),
  signature: shape.bytes({ length: SIGNATURE_LENGTH }),
  author: shape.bytes({ length: VALIDATOR_ID_LENGTH }),
})

function envelopeShape(limits: MessageLimits) {
  return shape.object({
    body: shape.bytes({ min: 1, max: MAX_BODY_BYTES }),
    signature: shape.bytes({ length: SIGNATURE_LENGTH }),
    author: shape.bytes({ length: VALIDATOR_ID_LENGTH }),
    payload: shape.optional(shape.bytes({ max: limits.maxPayloadBytes })),
    roundChanges: shape.optional(shape.array(signedShape, { min: 1, max: MAX_VALIDATORS })),
    prepares: shape.optional(shape.array(signedShape, { min: 1, max: MAX_VALIDATORS })),
  })
}

type WireSigned = Infer<typeof signedShape>

/** Thrown by {@link decodeMessage} for bytes that are not a well-formed message. */
export class MalformedMessageError extends MetanodeError {
  override name = 'MalformedMessageError'
}

// validators built once per limits object: building them costs more than a small decode
const shapeCache = new WeakMap<
  MessageLimits,
  { bodies: ReturnType<typeof bodyShapes>; envelope: ReturnType<typeof envelopeShape> }
>()
function shapesFor(limits: MessageLimits) {
  let shapes = shapeCache.get(limits)
  if (shapes === undefined) {
    shapes = { bodies: bodyShapes(limits), envelope: envelopeShape(limits) }
    shapeCache.set(limits, shapes)
  }
  return shapes
}
const defaultEnvelope = shapesFor(DEFAULT_MESSAGE_LIMITS).envelope

/** Encodes a body canonically. */
export function encodeBody(body: MessageBody): Uint8Array {
  // optional fields must be absent, not undefined, for the codec
  const plain: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(body)) if (value !== undefined) plain[key] = value
  return encode(plain)
}

/** Decodes and checks a body; throws `MalformedMessageError` for anything malformed. */
export function decodeBody(
  bytes: Uint8Array,
  limits: MessageLimits = DEFAULT_MESSAGE_LIMITS,
): MessageBody {
  const shapes = shapesFor(limits).bodies
  let body: MessageBody
  try {
    const value = decode(bytes, { maxBytes: MAX_BODY_BYTES })
    const kind = (value as { kind?: unknown } | null)?.kind
    if (typeof kind !== 'string' || !Object.hasOwn(shapes, kind)) {
      throw new MalformedMessageError('unknown message kind')
    }
    body = shapes[kind as MessageKind](value, '$') as MessageBody
  } catch (error) {
    if (error instanceof MalformedMessageError) throw error
    throw new MalformedMessageError('malformed message body', { cause: error })
  }
  if (body.kind === 'ROUND-CHANGE') {
    const hasRound = body.preparedRound !== undefined
    if (hasRound !== (body.preparedDigest !== undefined)) {
      throw new MalformedMessageError('preparedRound and preparedDigest come together')
    }
    if (hasRound && (body.preparedRound as number) >= body.round) {
      throw new MalformedMessageError('preparedRound must be lower than the round')
    }
  }
  return body
}

function decodeSigned(wire: WireSigned, limits: MessageLimits): SignedBody {
  return {
    body: decodeBody(wire.body, limits),
    bodyBytes: wire.body,
    signature: wire.signature,
    author: wire.author,
  }
}

function ofKind<K extends MessageKind>(
  list: readonly SignedBody[],
  kind: K,
): SignedBody<Extract<MessageBody, { kind: K }>>[] {
  for (const item of list) {
    if (item.body.kind !== kind)
      throw new MalformedMessageError(`justification holds a ${item.body.kind}`)
  }
  return list as SignedBody<Extract<MessageBody, { kind: K }>>[]
}

/**
 * Decodes wire bytes into an {@link IbftMessage}, checking the envelope, every body, and which
 * extras each kind may carry. Signatures are not checked here.
 *
 * @throws MalformedMessageError for anything malformed or oversized.
 */
export function decodeMessage(
  bytes: Uint8Array,
  limits: MessageLimits = DEFAULT_MESSAGE_LIMITS,
): IbftMessage {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array')
  if (bytes.length > limits.maxMessageBytes) {
    throw new MalformedMessageError('message is larger than the limit')
  }
  const envelope = shapesFor(limits).envelope
  let wire: Infer<typeof defaultEnvelope>
  try {
    wire = decodeAs(bytes, envelope, { maxBytes: limits.maxMessageBytes })
  } catch (error) {
    throw new MalformedMessageError('malformed message envelope', { cause: error })
  }
  const signed = decodeSigned(wire, limits)
  const roundChanges = ofKind(
    (wire.roundChanges ?? []).map((item) => decodeSigned(item, limits)),
    'ROUND-CHANGE',
  )
  const prepares = ofKind(
    (wire.prepares ?? []).map((item) => decodeSigned(item, limits)),
    'PREPARE',
  )
  const body = signed.body
  const hasPayload = wire.payload !== undefined
  switch (body.kind) {
    case 'PROPOSAL':
      if (!hasPayload) throw new MalformedMessageError('a PROPOSAL carries its payload')
      if (body.round === 0 && (roundChanges.length > 0 || prepares.length > 0)) {
        throw new MalformedMessageError('a round-0 PROPOSAL carries no justification')
      }
      break
    case 'ROUND-CHANGE': {
      const prepared = body.preparedRound !== undefined
      if (roundChanges.length > 0) throw new MalformedMessageError('unexpected roundChanges')
      if (prepared !== hasPayload || prepared !== prepares.length > 0) {
        throw new MalformedMessageError('a prepared ROUND-CHANGE carries payload and prepares')
      }
      break
    }
    default:
      if (hasPayload || roundChanges.length > 0 || prepares.length > 0) {
        throw new MalformedMessageError(`a ${body.kind} carries no extras`)
      }
  }
  return {
    signed,
    ...(hasPayload ? { payload: wire.payload as Uint8Array } : {}),
    roundChanges,
    prepares,
  }
}

/** The exact bytes a message signature covers. */
export function signingBytes(
  chainId: string,
  kind: MessageKind,
  bodyBytes: Uint8Array,
): Uint8Array {
  return domainHash(`metanode/ibft/${kind}/v1`, utf8(chainId), bodyBytes)
}

/**
 * The block id of a payload: a domain hash of all its bytes. The engine certifies it unless the
 * application supplies its own (`Application.blockId`).
 */
export function blockIdOf(payload: Uint8Array): Uint8Array {
  return domainHash('metanode/ibft/block/v1', payload)
}

/**
 * `blockId(payload)`, checked to be a {@link DIGEST_LENGTH}-byte `Uint8Array` (an application's
 * block id ends up in signed messages and certificates, whose shapes demand it).
 *
 * @throws whatever `blockId` throws, or a RangeError for a result of another type or length.
 */
export function checkedBlockId(
  blockId: (payload: Uint8Array) => Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const id = blockId(payload)
  if (!(id instanceof Uint8Array) || id.length !== DIGEST_LENGTH) {
    throw new RangeError(`a block id must be ${DIGEST_LENGTH} bytes`)
  }
  return id
}

/** A short hash identifying exact wire bytes, for de-duplication. */
export function messageHash(wire: Uint8Array): Uint8Array {
  return blake3(wire)
}

/** Signs `body` as `signer` for `chainId`. */
export function signBody<B extends MessageBody>(
  chainId: string,
  signer: IbftSigner,
  body: B,
): SignedBody<B> {
  const bodyBytes = encodeBody(body)
  return {
    body,
    bodyBytes,
    signature: signer.sign(signingBytes(chainId, body.kind, bodyBytes)),
    author: signer.id,
  }
}

function wireSigned(signed: SignedBody): WireSigned {
  return { body: signed.bodyBytes, signature: signed.signature, author: signed.author }
}

/** Encodes a message for the wire. */
export function encodeMessage(message: IbftMessage): Uint8Array {
  const wire: Record<string, unknown> = wireSigned(message.signed)
  if (message.payload !== undefined) wire.payload = message.payload
  if (message.roundChanges.length > 0) wire.roundChanges = message.roundChanges.map(wireSigned)
  if (message.prepares.length > 0) wire.prepares = message.prepares.map(wireSigned)
  return encode(wire)
}
