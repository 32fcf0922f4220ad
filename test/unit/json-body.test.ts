import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findAmbiguousKey } from '../../src/http/json-body'

const twice = (key: string) => `key "${key}" appears twice in one object`
const PROTO = 'key "__proto__" is not allowed'

/** The result for text JSON.parse accepts (findAmbiguousKey only runs on such text). */
const check = (text: string) => {
  JSON.parse(text)
  return findAmbiguousKey(text)
}

describe('findAmbiguousKey: examples', () => {
  it('finds a key twice in one object', () => {
    expect(check('{"a":1,"a":2}')).toBe(twice('a'))
    expect(check('{"a":1,"b":2,"a":1}')).toBe(twice('a'))
    expect(check('{ "a" : 1 ,\n\t"a"\r\n :\n2 }')).toBe(twice('a'))
    expect(check('{"":1,"":2}')).toBe(twice(''))
  })

  it('finds it in nested objects, in objects inside arrays, and after a nested object closes', () => {
    expect(check('{"x":{"y":{"a":1,"a":2}}}')).toBe(twice('a'))
    expect(check('[1,[{"a":1,"a":2}]]')).toBe(twice('a'))
    expect(check('{"a":{"b":[{"c":1}]},"a":2}')).toBe(twice('a'))
    expect(check('{"a":[{"a":1},{"a":2}],"b":{"b":{}},"a":3}')).toBe(twice('a'))
  })

  it('compares keys after unescaping', () => {
    expect(check('{"ab":1,"a\\u0062":2}')).toBe(twice('ab'))
    expect(check('{"\\u0061\\u0062":1,"ab":2}')).toBe(twice('ab'))
    expect(check('{"a\\/b":1,"a/b":2}')).toBe(twice('a/b'))
    expect(check('{"\\n":1,"\\u000a":2}')).toBe(twice('\n'))
    expect(check('{"\\ud83d\\ude00":1,"😀":2}')).toBe(twice('😀'))
    // Different escapes, different keys.
    expect(check('{"a\\\\b":1,"a\\\\\\\\b":2,"a/b":3}')).toBeUndefined()
  })

  it('reads keys containing quotes, backslashes, colons, commas and brackets whole', () => {
    expect(check('{"a\\"":1,"a\\"":2}')).toBe(twice('a"'))
    expect(check('{"a\\\\":1,"a\\\\":2}')).toBe(twice('a\\'))
    expect(check('{"a\\\\":1,"a":2}')).toBeUndefined()
    expect(check('{"a\\":\\"a":1,"a":2,"\\":":3}')).toBeUndefined()
    expect(check('{"a\\":\\"a":1,"a\\":\\"a":2}')).toBe(twice('a":"a'))
    expect(check('{"}":1,"{":2,"]":3,"[":4,",":5,"}":6}')).toBe(twice('}'))
  })

  it('refuses a __proto__ key, however it is written, at any depth', () => {
    expect(check('{"__proto__":{}}')).toBe(PROTO)
    expect(check('{"__proto__":null}')).toBe(PROTO)
    expect(check('{"a":[{"b":{"__proto__":1}}]}')).toBe(PROTO)
    expect(check('{"__pro\\u0074o__":1}')).toBe(PROTO)
    expect(check('{"__proto__":1,"__proto__":2}')).toBe(PROTO)
    expect(check('{"constructor":1,"prototype":2,"__proto":3,"proto__":4}')).toBeUndefined()
    expect(check('["__proto__"]')).toBeUndefined()
    expect(check('{"a":"__proto__"}')).toBeUndefined()
  })

  it('reports the first problem in text order', () => {
    expect(check('{"a":1,"a":2,"__proto__":3}')).toBe(twice('a'))
    expect(check('{"__proto__":3,"a":1,"a":2}')).toBe(PROTO)
    expect(check('{"b":{"x":1,"x":2},"a":1,"a":2}')).toBe(twice('x'))
  })

  it('accepts the same key in different objects, siblings or nested', () => {
    expect(check('{"a":{"a":{"a":1}}}')).toBeUndefined()
    expect(check('[{"a":1},{"a":2}]')).toBeUndefined()
    expect(check('{"x":{"a":1},"y":{"a":2},"a":3}')).toBeUndefined()
    expect(check('{"a":[{"a":1,"b":2},{"a":3,"b":4}],"b":[]}')).toBeUndefined()
  })

  it('does not take strings inside values or arrays for keys', () => {
    expect(check('{"a":"a","b":"a"}')).toBeUndefined()
    expect(check('{"a":"\\"a\\":1","b":"\\"a\\": 2"}')).toBeUndefined()
    expect(check('{"a":"x","y":"a\\":"}')).toBeUndefined()
    expect(check('{"a":["a","a"],"b":["a" , "a"]}')).toBeUndefined()
    expect(check('["a","a",{"a":1}]')).toBeUndefined()
    expect(check('{"a":"{\\"b\\":1,\\"b\\":2}"}')).toBeUndefined()
    expect(check('"{\\"a\\":1,\\"a\\":2}"')).toBeUndefined()
  })

  it('accepts scalars, empty containers and deep nesting', () => {
    for (const text of ['1', 'null', '"a"', '{}', '[]', '[[[]]]', '{"a":{}}', ' {"a" : [ ] } '])
      expect(check(text)).toBeUndefined()
    expect(check('['.repeat(500) + '{"a":1,"a":2}' + ']'.repeat(500))).toBe(twice('a'))
  })
})

// ---- properties ----

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function hasProtoKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasProtoKey)
  if (value === null || typeof value !== 'object') return false
  return Object.hasOwn(value, '__proto__') || Object.values(value).some(hasProtoKey)
}

function countObjects(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countObjects(v), 0)
  if (value === null || typeof value !== 'object') return 0
  return 1 + Object.values(value).reduce((n: number, v) => n + countObjects(v), 0)
}

/** Every code unit as \uXXXX: the same string, written differently. */
const escapeAll = (s: string) =>
  '"' + [...Array(s.length).keys()].map((i) => '\\u' + s.charCodeAt(i).toString(16).padStart(4, '0')).join('') + '"'

type Render = {
  /** Whitespace to put at the next token boundary. */
  ws: () => string
  /** Pre-order index of the object that gets a duplicate key, and how. */
  dup?: { object: number; pick: number; position: number; escaped: boolean; value: Json }
}

/**
 * JSON text of `value`, with free whitespace; when `dup` is set, one object gets one of its keys
 * a second time (or, if empty, a key `k` twice). Returns the text and the duplicated key.
 */
function render(value: Json, options: Render): { text: string; duplicated?: string } {
  let objectIndex = 0
  let duplicated: string | undefined
  const { ws } = options
  const go = (v: Json): string => {
    if (Array.isArray(v)) return '[' + ws() + v.map((x) => go(x) + ws()).join(',' + ws()) + ']'
    if (v === null || typeof v !== 'object') return JSON.stringify(v)
    const index = objectIndex++
    const members = Object.entries(v).map(([k, x]) => ({ key: JSON.stringify(k), value: x }))
    const dup = options.dup
    if (dup && dup.object === index) {
      if (members.length === 0) {
        members.push({ key: '"k"', value: 1 })
        duplicated = 'k'
      } else {
        const original = dup.pick % members.length
        duplicated = Object.keys(v)[original]!
        // After the original, anywhere: the second one is what is reported.
        const at = original + 1 + (dup.position % (members.length - original))
        members.splice(at, 0, {
          key: dup.escaped ? escapeAll(duplicated) : JSON.stringify(duplicated),
          value: dup.value,
        })
        return '{' + ws() + members.map((m) => m.key + ws() + ':' + ws() + go(m.value) + ws()).join(',' + ws()) + '}'
      }
      members.push({ key: dup.escaped ? escapeAll('k') : '"k"', value: dup.value })
    }
    return '{' + ws() + members.map((m) => m.key + ws() + ':' + ws() + go(m.value) + ws()).join(',' + ws()) + '}'
  }
  return { text: go(value), duplicated }
}

const wsArb = fc.array(fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n', '  '), { minLength: 1, maxLength: 16 })
const cycle = (items: string[]) => {
  let i = 0
  return () => items[i++ % items.length]!
}
const keyHeavyString = fc.oneof(
  fc.string(),
  fc.string({ unit: fc.constantFrom('a', '"', '\\', ':', ',', '{', '}', '[', ']', ' ', '/', '\n', 'é', '😀') })
)
/** JSON values whose strings (keys too) are full of the characters a scanner could trip on. */
const jsonArb = fc.oneof(
  fc.jsonValue(),
  fc.jsonValue({ stringUnit: 'binary' }),
  fc.letrec<{ value: Json }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      keyHeavyString,
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(keyHeavyString, tie('value'), { maxKeys: 5 })
    ),
  })).value
) as fc.Arbitrary<Json>

describe('findAmbiguousKey: properties', () => {
  it('finds nothing in JSON.stringify of any value (no duplicates possible) unless it has a __proto__ key', () => {
    fc.assert(
      fc.property(jsonArb, fc.constantFrom(undefined, 1, '\t'), (value, space) => {
        const text = JSON.stringify(value, null, space)
        expect(check(text)).toBe(hasProtoKey(value) ? PROTO : undefined)
      })
    )
  })

  it('finds nothing with any whitespace between tokens either', () => {
    fc.assert(
      fc.property(jsonArb, wsArb, (value, ws) => {
        fc.pre(!hasProtoKey(value))
        expect(check(render(value, { ws: cycle(ws) }).text)).toBeUndefined()
      })
    )
  })

  it('finds a duplicate key inserted into any object, however it is escaped and spaced', () => {
    const withObject = jsonArb.filter((v) => countObjects(v) > 0 && !hasProtoKey(v))
    fc.assert(
      fc.property(
        withObject,
        fc.record({ object: fc.nat(), pick: fc.nat(), position: fc.nat(), escaped: fc.boolean(), value: jsonArb }),
        wsArb,
        (value, dup, ws) => {
          fc.pre(!hasProtoKey(dup.value))
          const { text, duplicated } = render(value, {
            ws: cycle(ws),
            dup: { ...dup, object: dup.object % countObjects(value) },
          })
          expect(duplicated).toBeDefined()
          expect(check(text)).toBe(twice(duplicated!))
        }
      )
    )
  })
})
