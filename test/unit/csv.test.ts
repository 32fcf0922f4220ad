import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { csvCell, FORMULA_TRIGGERS } from '../../src/audit/export'

/**
 * A strict RFC 4180 parser: records end with CRLF, fields are separated by commas, a field is
 * either bare (no `"`, `,`, CR or LF) or quoted with `""` for a quote. Throws on anything else,
 * so a badly quoted cell cannot parse back by accident.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let i = 0
  while (i < text.length) {
    const record: string[] = []
    for (;;) {
      let field = ''
      if (text[i] === '"') {
        i++
        for (;;) {
          if (i >= text.length) throw new Error('unterminated quoted field')
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              field += '"'
              i += 2
            } else {
              i++
              break
            }
          } else field += text[i++]
        }
      } else {
        while (i < text.length && !/[",\r\n]/.test(text[i]!)) field += text[i++]
        if (text[i] === '"') throw new Error(`quote inside a bare field at ${i}`)
      }
      record.push(field)
      if (text[i] === ',') {
        i++
        continue
      }
      if (text.startsWith('\r\n', i)) {
        i += 2
        break
      }
      throw new Error(`expected , or CRLF at ${i}, got ${JSON.stringify(text[i])}`)
    }
    records.push(record)
  }
  return records
}

const line = (cells: unknown[], raw = false) => cells.map((cell) => csvCell(cell, raw)).join(',') + '\r\n'

/** What a spreadsheet reads a text cell as once neutralised (OWASP: a leading `'` keeps it text). */
const neutralised = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text)

describe('csvCell: examples', () => {
  it('leaves text that needs no quoting bare', () => {
    expect(csvCell('abc')).toBe('abc')
    expect(csvCell(' leading and trailing ')).toBe(' leading and trailing ')
    expect(csvCell("it's; fine\ttab")).toBe("it's; fine\ttab")
    expect(csvCell('1=1')).toBe('1=1')
    expect(csvCell('é😀')).toBe('é😀')
  })

  it("neutralises text a spreadsheet would take for a formula with a leading '", () => {
    expect(FORMULA_TRIGGERS).toEqual(['=', '+', '-', '@', '\t', '\r'])
    expect(csvCell('=1+1')).toBe("'=1+1")
    expect(csvCell('+cmd')).toBe("'+cmd")
    expect(csvCell('-2+3')).toBe("'-2+3")
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(csvCell('\t=1')).toBe("'\t=1")
    expect(csvCell('\r=1')).toBe('"\'\r=1"')
    expect(csvCell('=HYPERLINK("x","y")')).toBe('"\'=HYPERLINK(""x"",""y"")"')
    expect(csvCell("'already")).toBe("'already")
  })

  it('leaves numbers, booleans and JSON cells alone: they are not text a client wrote at the start of a cell', () => {
    expect(csvCell(-1.5)).toBe('-1.5')
    expect(csvCell({ title: '=1+1' })).toBe('"{""title"":""=1+1""}"')
    expect(csvCell(['-'])).toBe('"[""-""]"')
  })

  it('writes text as it is when raw', () => {
    expect(csvCell('=1+1', true)).toBe('=1+1')
    expect(csvCell('@SUM(A1)', true)).toBe('@SUM(A1)')
    expect(csvCell('=a,b', true)).toBe('"=a,b"')
  })

  it('quotes text with a quote, comma, CR or LF, doubling quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('"')).toBe('""""')
    expect(csvCell('a\nb')).toBe('"a\nb"')
    expect(csvCell('a\rb')).toBe('"a\rb"')
    expect(csvCell('a\r\nb')).toBe('"a\r\nb"')
    expect(csvCell(',')).toBe('","')
  })

  it('writes null and undefined as an empty cell, other scalars as text', () => {
    expect(csvCell(null)).toBe('')
    expect(csvCell(undefined)).toBe('')
    expect(csvCell('')).toBe('')
    expect(csvCell(0)).toBe('0')
    expect(csvCell(-1.5)).toBe('-1.5')
    expect(csvCell(1_780_000_000_000)).toBe('1780000000000')
    expect(csvCell(true)).toBe('true')
    expect(csvCell(false)).toBe('false')
  })

  it('writes objects and arrays as JSON text, quoted', () => {
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"')
    expect(csvCell([1, 2])).toBe('"[1,2]"')
    expect(csvCell([])).toBe('[]')
    expect(csvCell({ title: 'x,"y"\n' })).toBe('"{""title"":""x,\\""y\\""\\n""}"')
  })
})

const awkward = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('"', ',', '\r', '\n', 'a', ' ', '\t', 'é', '😀', '=', '+', '-', '@', "'") })
)

describe('csvCell: properties', () => {
  it('a line of cells parses back (RFC 4180) to the original texts, neutralised', () => {
    fc.assert(
      fc.property(fc.array(awkward, { minLength: 1, maxLength: 8 }), (texts) => {
        expect(parseCsv(line(texts))).toEqual([texts.map(neutralised)])
      })
    )
  })

  it('raw, a line of cells parses back to exactly the original texts', () => {
    fc.assert(
      fc.property(fc.array(awkward, { minLength: 1, maxLength: 8 }), (texts) => {
        expect(parseCsv(line(texts, true))).toEqual([texts])
      })
    )
  })

  it('no text cell parses back starting with a formula trigger', () => {
    fc.assert(
      fc.property(fc.array(awkward, { minLength: 1, maxLength: 8 }), (texts) => {
        for (const cell of parseCsv(line(texts))[0]!) expect(cell).not.toMatch(/^[=+\-@\t\r]/)
      })
    )
  })

  it('many lines parse back to as many records', () => {
    fc.assert(
      fc.property(fc.array(fc.array(awkward, { minLength: 1, maxLength: 5 }), { maxLength: 6 }), (rows) => {
        expect(parseCsv(rows.map((row) => line(row)).join(''))).toEqual(rows.map((row) => row.map(neutralised)))
      })
    )
  })

  it('any JSON value parses back to its text: empty for null, JSON for objects, String() for scalars', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 6 }), (values) => {
        const expected = values.map((v) =>
          v === null
            ? ''
            : typeof v === 'object'
              ? JSON.stringify(v)
              : typeof v === 'string'
                ? neutralised(v)
                : String(v)
        )
        expect(parseCsv(line(values))).toEqual([expected])
      })
    )
  })

  it('quotes exactly when the text holds a quote, comma, CR or LF', () => {
    fc.assert(
      fc.property(awkward, (text) => {
        expect(csvCell(text).startsWith('"')).toBe(/[",\r\n]/.test(text))
      })
    )
  })
})
