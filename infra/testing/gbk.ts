/**
 * GBK bytes of a text, for tests (Node decodes GBK but has no encoder): ASCII as is, and the few
 * Chinese characters the tests use, from the GBK table.
 */
export function gbk(text: string): Buffer {
  const table: Record<string, readonly number[]> = {
    数: [0xca, 0xfd],
    据: [0xbe, 0xdd],
    失: [0xca, 0xa7],
    败: [0xb0, 0xdc],
    输: [0xca, 0xe4],
    入: [0xc8, 0xeb],
  };
  return Buffer.concat(
    [...text].map((char) => {
      const bytes = table[char] ?? (char.charCodeAt(0) < 0x80 ? [char.charCodeAt(0)] : undefined);
      if (!bytes) throw new Error(`gbk(): no GBK bytes for ${char} in the test table`);
      return Buffer.from(bytes);
    }),
  );
}
