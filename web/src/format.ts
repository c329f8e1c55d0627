/** How the console shows values. */

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export const formatTime = (ms: number) => dateTime.format(new Date(ms));

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A metric value, with enough digits to tell close values apart. */
export const formatNumber = (value: number) =>
  Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));

/** The short name of an IAM principal (`…:user/alice` → alice; an assumed role → role/session). */
export function shortPrincipal(arn: string): string {
  const m = /^arn:[^:]+:(?:iam|sts)::\d{12}:(.+)$/.exec(arn);
  if (!m) return arn;
  const resource = m[1]!;
  if (resource.startsWith('user/')) return resource.split('/').pop()!;
  if (resource.startsWith('assumed-role/')) return resource.slice('assumed-role/'.length);
  return resource;
}

/** A `datetime-local` value for an instant (local time, to the second). */
export function toDateTimeLocal(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
