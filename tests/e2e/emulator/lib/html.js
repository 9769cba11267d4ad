'use strict';

// Telegram's HTML parse mode, modelled on tdlib's parse_html: a fixed tag set, matching
// open/close tags, four named entities plus numeric ones. telegram-test-api accepts any text,
// so a bot that forgets html.escape() passes there and fails in production.
//
// Strict mode (the default) also rejects a bare "&" or ">": Telegram tolerates both, but they
// mean the text was not escaped, and the next "<" in the same data breaks the message.

const ENTITY_TYPE = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough', 'tg-spoiler': 'spoiler',
  span: 'spoiler', a: 'text_link', code: 'code', pre: 'pre', blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};
const NAMED = { lt: '<', gt: '>', amp: '&', quot: '"' };

class ParseError extends Error {}

const byteOffset = (src, index) => Buffer.byteLength(src.slice(0, index), 'utf8');

/** Decode one HTML entity at src[i] ('&'); returns [text, length] or null. */
function decodeEntity(src, i) {
  const m = /^&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));/.exec(src.slice(i, i + 12));
  if (!m) return null;
  if (m[3]) return m[3] in NAMED ? [NAMED[m[3]], m[0].length] : null;
  const code = m[1] ? Number(m[1]) : parseInt(m[2], 16);
  if (code === 0 || code > 0x10ffff) return null;
  return [String.fromCodePoint(code), m[0].length];
}

/** Parse attributes of a start tag beginning after its name; returns [attrs, index after '>']. */
function parseAttributes(src, i, tag, tagStart) {
  const attrs = {};
  for (;;) {
    while (/\s/.test(src[i] || '')) i++;
    if (i >= src.length) throw new ParseError(`Unclosed start tag at byte offset ${tagStart}`);
    if (src[i] === '>') return [attrs, i + 1];
    const name = /^[a-zA-Z0-9_-]*/.exec(src.slice(i))[0].toLowerCase();
    if (!name) {
      throw new ParseError(`Empty attribute name in the tag "${tag}" at byte offset ${tagStart}`);
    }
    i += name.length;
    while (/\s/.test(src[i] || '')) i++;
    if (src[i] !== '=') {
      if (src[i] === '>' || /\s/.test(src[i] || '')) { attrs[name] = ''; continue; }
      throw new ParseError(
        `Expected equal sign in declaration of an attribute of the tag "${tag}" at byte offset ${tagStart}`);
    }
    i++;
    while (/\s/.test(src[i] || '')) i++;
    let raw;
    if (src[i] === '"' || src[i] === "'") {
      const end = src.indexOf(src[i], i + 1);
      if (end === -1) throw new ParseError(`Unclosed start tag at byte offset ${tagStart}`);
      raw = src.slice(i + 1, end);
      i = end + 1;
    } else {
      raw = /^[^\s>]*/.exec(src.slice(i))[0];
      i += raw.length;
    }
    attrs[name] = raw.replace(/&[^;\s]{1,10};/g, (e) => (decodeEntity(e, 0) || [e])[0]);
  }
}

/** Turn a closed tag into a MessageEntity (or nothing when it would be empty). */
function closeTag(open, end, entities, stack) {
  const { tag, start, attrs } = open;
  const parent = stack[stack.length - 1];
  const language = (attrs.class || '').startsWith('language-') ? attrs.class.slice(9) : '';
  if (tag === 'code' && parent && parent.tag === 'pre' && language) {
    parent.language = language; // <pre><code class="language-x"> is one pre entity
    return;
  }
  const length = end - start;
  if (length === 0 || (tag === 'a' && !attrs.href)) return;
  const entity = { type: ENTITY_TYPE[tag], offset: start, length };
  if (tag === 'a') entity.url = attrs.href;
  if (tag === 'pre' && open.language) entity.language = open.language;
  if (tag === 'blockquote' && 'expandable' in attrs) entity.type = 'expandable_blockquote';
  if (tag === 'tg-emoji') entity.custom_emoji_id = attrs['emoji-id'] || '';
  entities.push(entity);
}

/** Parse Telegram HTML into visible text and entities; throws ParseError like the Bot API. */
function parseHtml(src, { strict = true } = {}) {
  let text = '';
  const entities = [];
  const stack = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '&') {
      const decoded = decodeEntity(src, i);
      if (decoded) { text += decoded[0]; i += decoded[1]; continue; }
      if (strict) {
        throw new ParseError(`Unescaped "&" at byte offset ${byteOffset(src, i)} `
          + '(emulator strict mode; use &amp;)');
      }
    } else if (c === '>' && strict) {
      throw new ParseError(`Unescaped ">" at byte offset ${byteOffset(src, i)} `
        + '(emulator strict mode; use &gt;)');
    }
    if (c !== '<') { text += c; i++; continue; }

    const tagStart = byteOffset(src, i);
    if (src[i + 1] === '/') {
      const name = /^[^\s>]*/.exec(src.slice(i + 2))[0].toLowerCase();
      let j = i + 2 + name.length;
      while (/\s/.test(src[j] || '')) j++;
      if (src[j] !== '>') throw new ParseError(`Unclosed end tag at byte offset ${tagStart}`);
      const open = stack.pop();
      if (!open) throw new ParseError(`Unexpected end tag at byte offset ${tagStart}`);
      if (open.tag !== name) {
        throw new ParseError(`Unmatched end tag at byte offset ${tagStart}, `
          + `expected "</${open.tag}>", found "</${name}>"`);
      }
      closeTag(open, text.length, entities, stack);
      i = j + 1;
      continue;
    }
    const tag = /^[^\s>/]*/.exec(src.slice(i + 1))[0].toLowerCase();
    if (!(tag in ENTITY_TYPE)) {
      throw new ParseError(`Unsupported start tag "${tag}" at byte offset ${tagStart}`);
    }
    const [attrs, next] = parseAttributes(src, i + 1 + tag.length, tag, tagStart);
    if (tag === 'span' && attrs.class !== 'tg-spoiler') {
      throw new ParseError(`Tag "span" must have class "tg-spoiler" at byte offset ${tagStart}`);
    }
    stack.push({ tag, start: text.length, attrs });
    i = next;
  }
  if (stack.length) {
    const open = stack[stack.length - 1];
    throw new ParseError(`Can't find end tag corresponding to start tag "${open.tag}"`);
  }
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

module.exports = { parseHtml, ParseError };
