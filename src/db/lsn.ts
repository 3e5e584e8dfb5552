// PostgreSQL WAL positions (pg_lsn, 'X/Y' in hex) as numbers that compare and subtract.
export function parseLsn(s: string): bigint {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}
