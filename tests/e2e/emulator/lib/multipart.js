'use strict';

// Bots upload files (sendDocument, sendPhoto, ...) as multipart/form-data, which express does
// not parse and telegram-test-api never handles. This is just enough of RFC 7578 for that.

function partName(headers, key) {
  const star = new RegExp(`;\\s*${key}\\*=(?:utf-8|UTF-8)''([^;\\r\\n]*)`).exec(headers);
  if (star) return decodeURIComponent(star[1]);
  const plain = new RegExp(`;\\s*${key}="([^"]*)"`).exec(headers);
  return plain ? plain[1] : null;
}

/** Split a multipart body into text fields and files ({filename, contentType, data}). */
function parseMultipart(body, contentType) {
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!match) return { fields: {}, files: {} };
  const delimiter = Buffer.from(`--${match[1] || match[2]}`);
  const fields = {};
  const files = {};
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    const next = body.indexOf(delimiter, headerEnd);
    if (headerEnd === -1 || next === -1) break;
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const data = body.subarray(headerEnd + 4, next - 2); // the part ends with CRLF
    const name = partName(headers, 'name');
    const filename = partName(headers, 'filename');
    if (name !== null && filename !== null) {
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers);
      files[name] = { filename, contentType: type ? type[1].trim() : null, data };
    } else if (name !== null) {
      fields[name] = data.toString('utf8');
    }
    pos = next;
  }
  return { fields, files };
}

module.exports = { parseMultipart };
