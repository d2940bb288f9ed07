/** One byte as protocol documents write it, for logs and messages: 5 → "0x05". */
export function hexByte(value: number): string {
  return `0x${value.toString(16).padStart(2, '0')}`;
}
