import { decodeChunks, MAX_RECORD_CHARS, parseRecordText, type SourceRecord, tooLongRecord } from './sourceRecord.ts';

/** The file is not a JSON array at all (as opposed to one bad element, which is a rejection). */
export class NotAJsonArrayError extends Error {
  override readonly name = 'NotAJsonArrayError';
}

/**
 * Streams the elements of a top-level JSON array (`[ {...}, {...} ]`) from text or byte chunks,
 * holding one element in memory at a time. Each element is parsed on its own, so a broken
 * element becomes an `UnreadableRecord` and the others still arrive. Element boundaries are
 * found by tracking strings and nesting depth, which is all JSON needs.
 *
 * @throws NotAJsonArrayError when the text does not start with `[` or has content after the closing `]`
 */
export async function* readJsonArray(chunks: AsyncIterable<string | Uint8Array>): AsyncGenerator<SourceRecord> {
  const splitter = new JsonArraySplitter();
  for await (const text of decodeChunks(chunks)) yield* splitter.push(text);
  splitter.end();
}

class JsonArraySplitter {
  private state: 'before' | 'inside' | 'after' = 'before';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private line = 1;
  private element: string[] = [];
  private elementChars = 0;
  private elementLine = 0;
  private overlong = false;

  *push(text: string): Generator<SourceRecord> {
    let segmentStart = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.line++;
      if (this.state !== 'inside') {
        if (c === 91 /* [ */ && this.state === 'before') {
          this.state = 'inside';
          segmentStart = i + 1;
        } else if (!isWhitespace(c)) {
          throw new NotAJsonArrayError(
            this.state === 'before'
              ? `expected a JSON array starting with "[" (line ${this.line})`
              : `unexpected content after the closing "]" (line ${this.line})`,
          );
        }
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92 /* \ */) this.escaped = true;
        else if (c === 34 /* " */) this.inString = false;
        continue;
      }
      if (this.elementLine === 0 && !isWhitespace(c) && c !== 44 && !(c === 93 && this.depth === 0)) this.elementLine = this.line;
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if ((c === 125 || c === 93) && this.depth > 0) this.depth--;
      else if (this.depth === 0 && (c === 44 /* , */ || c === 93) /* ] */) {
        this.append(text.slice(segmentStart, i));
        segmentStart = i + 1;
        const record = this.takeElement(c === 93);
        if (record) yield record;
        if (c === 93) this.state = 'after';
      }
    }
    if (this.state === 'inside') this.append(text.slice(segmentStart));
  }

  end(): void {
    if (this.state === 'before') throw new NotAJsonArrayError('expected a JSON array starting with "[", the file is empty');
    if (this.state === 'inside') throw new NotAJsonArrayError(`the JSON array is not closed with "]" (line ${this.line})`);
  }

  private append(segment: string): void {
    if (this.overlong || segment.length === 0) return;
    this.elementChars += segment.length;
    if (this.elementChars > MAX_RECORD_CHARS) {
      this.overlong = true;
      this.element = [];
    } else {
      this.element.push(segment);
    }
  }

  private takeElement(closing: boolean): SourceRecord | undefined {
    const line = this.elementLine || this.line;
    const what = `array element at line ${line}`;
    const text = this.element.join('').trim();
    const overlong = this.overlong;
    const bytes = this.elementChars;
    this.element = [];
    this.elementChars = 0;
    this.elementLine = 0;
    this.overlong = false;
    if (overlong) return { line, value: tooLongRecord(what), bytes: MAX_RECORD_CHARS };
    // `[]` and a trailing `]` after the last element hold no element.
    if (text === '' && closing) return undefined;
    return { line, value: parseRecordText(text, what), bytes };
  }
}

const isWhitespace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;
