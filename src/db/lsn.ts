// PostgreSQL WAL positions (pg_lsn, 'X/Y' in hex) as numbers that compare and subtract.
export function parseLsn(s: string): bigint {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** The text form PostgreSQL prints ('X/Y', upper-case hex), which parseLsn reads back. */
export function formatLsn(n: bigint): string {
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** A WAL position as a client may send it back: 'X/Y', 1-8 hex digits each. */
export const LSN_PATTERN = /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/;
