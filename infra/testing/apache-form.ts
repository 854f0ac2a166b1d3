/**
 * Encodes text as Apache HttpClient's `URLEncodedUtils.format` does (what Thain's
 * `UrlEncodedFormEntity` writes): only `[A-Za-z0-9-_.*]` literal, space as `+`, every other UTF-8
 * byte `%XX` in uppercase hex. Checked against the shared fixture `thain-flow-error`.
 */
export function apacheEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.*]/.test(char)) out += char;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A form body of fields in the given order, as Thain sends it. */
export function apacheForm(fields: ReadonlyArray<readonly [string, string]>): string {
  return fields.map(([key, value]) => `${apacheEncode(key)}=${apacheEncode(value)}`).join('&');
}
